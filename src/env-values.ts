/**
 * How a variable of the environment is read (zod): the shapes the core's and every platform's
 * settings share. Each trims, treats an empty value as unset, and names the variable in its message.
 */
import { z } from 'zod';

export const optionalText = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

export const httpUrl = (name: string) =>
  optionalText.refine((s) => s === undefined || /^https?:\/\/[^\s]+$/i.test(s), {
    message: `${name} must be an http(s) URL`,
  });

export const positiveInt = (name: string) =>
  optionalText
    .refine((s) => s === undefined || /^[1-9]\d*$/.test(s), { message: `${name} must be a positive whole number` })
    .transform((s) => (s === undefined ? undefined : Number(s)));

export const boundedInt = (name: string, min: number, max: number, fallback: number) =>
  optionalText
    .refine((s) => s === undefined || (/^\d+$/.test(s) && Number(s) >= min && Number(s) <= max), {
      message: `${name} must be a whole number from ${min} to ${max}`,
    })
    .transform((s) => (s === undefined ? fallback : Number(s)));

export const minutes = (name: string, fallback: number) =>
  optionalText
    .refine((s) => s === undefined || (/^\d+$/.test(s) && Number(s) <= 10_080), { message: `${name} must be a whole number of minutes (0 turns it off, at most 10080)` })
    .transform((s) => (s === undefined ? fallback : Number(s)));

export const bool = (name: string, fallback: boolean) =>
  optionalText
    .refine((s) => s === undefined || /^(true|false|1|0|yes|no)$/i.test(s), { message: `${name} must be true or false` })
    .transform((s) => (s === undefined ? fallback : /^(true|1|yes)$/i.test(s)));
