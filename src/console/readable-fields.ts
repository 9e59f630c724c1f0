/** Platform values in words for the console (the page and the server's one-line summaries): never raw JSON. */

/**
 * A platform value (a handoff's request, a control, a platform's answer) in words: `team 3 · agent 2 ·
 * reason “…”`; nested values one level deep, long texts quoted and clipped; never raw JSON.
 */
export function fields(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return depth === 0 ? value : `“${clip(value)}”`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => fields(v, depth + 1)).join(', ');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0));
    if (entries.length === 0) return 'nothing';
    if (depth > 1) return `${entries.length} fields`;
    return entries.map(([k, v]) => `${words(k)} ${fields(v, depth + 1)}`).join(' · ');
  }
  return String(value);
}

/** `platformStatus` → `platform status`, `team_id` → `team id`. */
function words(key: string): string {
  return key
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

function clip(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
