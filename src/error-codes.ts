/**
 * Every error code this package answers with or throws, in one registry: `HandoffError.code`, the
 * webhook refusals and every JSON error body are typed with it, so a code not listed here does not
 * compile. Codes an HTTP endpoint answers with carry their status; the HTTP reference in docs/ is
 * checked against them by a test.
 */

interface CodeInfo {
  /** The HTTP status an endpoint answers with it (absent: thrown to the caller, or logged). */
  status?: number;
  /** What it means. */
  meaning: string;
}

const registry = {
  // ---------------------------------------------------------------- the webhook endpoints
  payload_too_large: { status: 413, meaning: 'the body is larger than the limit (1 MB for webhooks)' },
  payload_too_deep: { status: 400, meaning: 'the JSON nests objects or arrays deeper than 64 levels' },
  invalid_json: { status: 400, meaning: 'the body is not valid JSON' },
  payload_invalid: { status: 400, meaning: "the JSON is not the platform's webhook (names the problem)" },
  shutting_down: { status: 500, meaning: 'the endpoint is stopping; the status is the one the platform redelivers on (Nimchat 500, WOZTELL and Inbenta 503)' },
  worker_restarting: { status: 500, meaning: 'handoff serve: no worker took the request within 4 s (one is restarting); a webhook gets its platform\'s redelivery status (Nimchat 500, WOZTELL and Inbenta 503), any other request 503' },
  front_full: { status: 503, meaning: 'handoff serve: the supervisor holds more request bytes than it may (64 MB) while its worker restarts; a webhook gets its platform\'s redelivery status' },
  worker_unavailable: { status: 502, meaning: 'handoff serve: the worker stopped before it answered a request that is not a webhook or a GET (not repeated: it may or may not have been carried out)' },
  backlog_full: { status: 500, meaning: 'too many accepted events wait to be processed; the platform\'s redelivery status (Nimchat 500, WOZTELL 503)' },
  storage_unavailable: { status: 500, meaning: 'the event could not be stored; the platform\'s redelivery status (Nimchat 500, WOZTELL 503); also thrown by the stores' },
  platform_not_configured: { status: 404, meaning: 'the route\'s platform is not configured on this endpoint' },
  tenant_unknown: { status: 404, meaning: 'no tenant of that id serves the platform on this endpoint (`/t/<tenant>/api/<platform>`)' },
  internal_error: { status: 500, meaning: 'an unexpected failure while answering' },
  raw_body_unavailable: { status: 500, meaning: 'your web server parsed the body before the webhook route: the signature needs the raw bytes' },
  nimchat_account_mismatch: { status: 401, meaning: "a tenant's Nimchat webhook names an account other than the tenant's (NIMCHAT_ACCOUNT_ID)" },
  nimchat_signature_missing: { status: 401, meaning: 'X-Chatwoot-Signature or X-Chatwoot-Timestamp is missing' },
  nimchat_signature_invalid: { status: 401, meaning: 'the signature does not match the body' },
  nimchat_signature_stale: { status: 401, meaning: 'the signature timestamp is more than 300 s away' },
  nimchat_url_token_invalid: { status: 401, meaning: 'the outgoing URL\'s token is missing or not valid' },
  nimchat_url_token_mismatch: { status: 401, meaning: 'the payload\'s account is not the one the URL token names' },
  woztell_signature_missing: { status: 401, meaning: 'X-Woztell-Signature is missing' },
  woztell_signature_invalid: { status: 401, meaning: 'the signature does not match the body' },
  inbenta_signature_invalid: { status: 401, meaning: 'X-Hook-Signature is not INBENTA_WEBHOOK_SECRET' },
  inbenta_webhook_secret_missing: { status: 401, meaning: 'INBENTA_WEBHOOK_SECRET is not set: ticket events are refused' },
  inbenta_challenge_missing: { status: 400, meaning: 'the registration check has no X-Inbenta-Challenge' },

  // ---------------------------------------------------------------- the console
  console_disabled: { status: 404, meaning: 'the console is off (production without CONSOLE_TOKEN)' },
  console_unauthorized: { status: 401, meaning: 'no valid console session or token' },
  console_csrf: { status: 403, meaning: 'a state-changing request without the session\'s CSRF token' },
  console_read_only: { status: 403, meaning: 'CONSOLE_READ_ONLY: actions are refused' },
  console_loopback_only: { status: 403, meaning: 'without CONSOLE_TOKEN only this machine gets in' },
  console_host_refused: { status: 403, meaning: 'the Host header is not this endpoint (DNS rebinding)' },
  action_in_flight: { status: 409, meaning: 'the action is being attempted by another replica right now (one attempted on the same server is waited for)' },
  not_found: { status: 404, meaning: 'no such conversation, action or route' },
  invalid_request: { status: 400, meaning: 'the request\'s parameters are not valid' },
  unsupported_media_type: { status: 415, meaning: 'the body is not JSON' },
  sandbox_unreachable: { status: 502, meaning: 'the emulated platform did not answer' },
  resource_not_found: { status: 404, meaning: 'no such route' },
  method_not_allowed: { status: 405, meaning: 'the route does not take this method' },
  http_error: { meaning: "another of the web server's own refusals (its status kept)" },

  // ---------------------------------------------------------------- start-up and configuration
  config_invalid: { meaning: 'the configuration is not valid (lists every problem)' },
  port_in_use: { meaning: 'PORT is taken' },
  port_forbidden: { meaning: 'PORT needs privileges' },
  host_unavailable: { meaning: 'HOST is not an address of this machine' },
  public_url_required: { meaning: 'listen: false in sandbox mode needs publicUrl' },
  bot_module_not_found: { meaning: 'handoff serve --bot: no module at that path' },
  bot_module_failed: { meaning: 'handoff serve --bot: the module threw while loading' },
  bot_module_invalid: { meaning: 'handoff serve --bot: the module exports no bot' },
  agents_sdk_missing: { meaning: 'EXAMPLE_BOT_SDK=agents-sdk without @microsoft/agents-hosting installed' },
  register_url_invalid: { meaning: 'handoff nimchat register: the URL is not usable' },
  register_inbox_not_found: { meaning: 'handoff nimchat register: no such inbox' },
  register_failed: { meaning: 'handoff nimchat register: a step failed (what was done is undone)' },
  register_inbox_has_other_bot: { meaning: 'handoff nimchat register: the inbox has another agent bot (--force replaces it)' },
  woztell_inbox_not_installed: { meaning: 'no WOZTELL inbox integration is installed for the app (set WOZTELL_APP_INTEGRATION_ID and WOZTELL_INBOX_SIGNATURE)' },
  inbenta_url_invalid: { meaning: 'handoff inbenta register-webhooks: the URL is not usable' },

  // ---------------------------------------------------------------- what a bot sends, and the platforms
  store_unavailable: { meaning: 'the store could not be read to look for an earlier attempt of an action; the action is tried again later' },
  handoff_request_invalid: { meaning: 'a handoff.initiate value that is not a handoff request' },
  control_invalid: { meaning: 'a conversation.control value that is not valid on the platform' },
  control_empty: { meaning: 'a conversation.control with nothing to do' },
  tenant_mismatch: { meaning: "a conversation id of another tenant (or of none) given to a tenant's adapter: one tenant's credentials never act on another's conversation" },
  nimchat_conversation_invalid: { meaning: 'not a Nimchat conversation id (account:conversation)' },
  nimchat_id_invalid: { meaning: 'an agent or team id that is not a positive integer' },
  nimchat_message_empty: { meaning: 'a message with no text, choices or attachments' },
  nimchat_attachment_invalid: { meaning: 'an attachment Nimchat cannot carry' },
  nimchat_attachment_download_failed: { meaning: 'an attachment\'s file could not be downloaded' },
  nimchat_attachment_download_failed_too_large: { meaning: 'an attachment\'s file is over the size limit' },
  woztell_conversation_invalid: { meaning: 'not a WOZTELL conversation id (channel:member)' },
  woztell_message_empty: { meaning: 'a message with no text, choices or attachments' },
  woztell_attachment_invalid: { meaning: 'an attachment WOZTELL cannot carry' },
  woztell_send_failed: { meaning: 'the Bot API did not answer ok: 1 to a send' },
  woztell_graphql_error: { meaning: 'the Open API answered GraphQL errors' },
  woztell_inbox_refused: { meaning: 'the Inbox API refused a call or answered an unknown shape' },
  woztell_response_invalid: { meaning: 'channelData.woztell.response is not a list of WOZTELL responses' },
  inbenta_auth_failed: { meaning: 'Inbenta refused the API key and secret' },
  inbenta_no_ticketing: { meaning: 'the Inbenta project has no ticketing API' },
  inbenta_reference_invalid: { meaning: 'not an Inbenta ticket reference' },
  inbenta_attachment_download_failed: { meaning: 'a file for the ticket could not be downloaded' },
  inbenta_attachment_download_failed_too_large: { meaning: 'a file for the ticket is over the size limit' },
  inbenta_attachment_too_large: { meaning: 'a file for the ticket is over Inbenta\'s limit' },
  ticket_desk_missing: { meaning: 'no ticketing integration serves the conversation (its tenant has none, nor has the endpoint)' },

  // ---------------------------------------------------------------- the stores
  storage_closed: { meaning: 'the store was closed' },
  storage_conflict: { meaning: 'a write lost to a concurrent one (stale eTag)' },
  storage_write_failed: { meaning: 'the store refused a write' },
  turn_committed: { meaning: 'a write to a turn that was already committed' },
} satisfies Record<string, CodeInfo>;

/** The codes of one platform's error families: `nimchat_api_error`, `woztell_network_error`, … */
type PlatformFamily = `${string}_${'api_error' | 'network_error' | 'rate_limited' | 'not_supported' | 'conversation_missing' | 'no_logic' | 'card_unsupported'}`;

/** A code this package uses. */
export type ErrorCode = keyof typeof registry | PlatformFamily;

/** Every registered code with its status (for an HTTP answer) and meaning. */
export const ERROR_CODES: Readonly<Record<keyof typeof registry, CodeInfo>> = registry;

/** The suffixes of the per-platform families (`<platform>_<suffix>`). */
export const PLATFORM_ERROR_FAMILIES = ['api_error', 'network_error', 'rate_limited', 'not_supported', 'conversation_missing', 'no_logic', 'card_unsupported'] as const;
