/**
 * Echoes in PostgreSQL (`handoff_echoes`), which replicas share: a row per echo, its primary key the
 * platform, conversation and message id, so two replicas adding echoes of one conversation at once
 * both keep theirs. A batch is one statement. Rows past their hour go with the retention pass.
 */
import type { EchoKey, EchoStore, KeptEcho } from './echo-store';
import { ECHOES_PER_CONVERSATION } from './echo-store';
import type { PostgresDatabase, Statement } from './postgres-database';

const ADD: Statement = {
  name: 'handoff_echoes_add',
  text: `INSERT INTO handoff_echoes (platform, conversation, message_id, fingerprint, at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT DO NOTHING`,
};
const LIST: Statement = {
  name: 'handoff_echoes_list',
  text: `SELECT message_id, fingerprint, at FROM (
           SELECT message_id, fingerprint, at FROM handoff_echoes
           WHERE platform = $1 AND conversation = $2 AND at >= $3 ORDER BY at DESC LIMIT $4) recent
         ORDER BY at`,
};
const REMOVE: Statement = {
  name: 'handoff_echoes_remove',
  text: `DELETE FROM handoff_echoes e USING unnest($1::text[], $2::text[], $3::text[]) AS r(platform, conversation, message_id)
         WHERE e.platform = r.platform AND e.conversation = r.conversation AND e.message_id = r.message_id`,
};

export class PostgresEchoStore implements EchoStore {
  constructor(private readonly db: PostgresDatabase) {}

  async add(echoes: KeptEcho[]): Promise<void> {
    if (echoes.length === 0) return;
    await this.db.query(ADD, [echoes.map((e) => e.platform), echoes.map((e) => e.conversationId), echoes.map((e) => e.messageId), echoes.map((e) => e.fingerprint), echoes.map((e) => e.at)]);
  }

  async list(platform: string, conversationId: string, since: number): Promise<KeptEcho[]> {
    const { rows } = await this.db.query<{ message_id: string; fingerprint: string; at: string }>(LIST, [platform, conversationId, since, ECHOES_PER_CONVERSATION]);
    return rows.map((r) => ({ platform, conversationId, messageId: r.message_id, fingerprint: r.fingerprint, at: Number(r.at) }));
  }

  async remove(keys: EchoKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query(REMOVE, [keys.map((k) => k.platform), keys.map((k) => k.conversationId), keys.map((k) => k.messageId)]);
  }
}
