/**
 * State file: the SeedState JSON format (so a saved state is also a valid seed). Records carry their ID;
 * segment members are record IDs. Written incrementally (one record at a time) to a temporary file that
 * then replaces the target, so large lists never become one giant string and a crash never leaves half a file.
 */

import { createWriteStream } from 'node:fs';
import { readFile, rename, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { parseJsonExact, stringifyExact } from '../json-exact.js';
import type { ListState, Organization, Store } from './state.js';
import type { SeedList, SeedState } from './types.js';
import { fieldJson } from './handlers.js';

export async function loadStateFile(path: string): Promise<SeedState | undefined> {
  try {
    await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const text = await readFile(path, 'utf8');
  const state = parseJsonExact(text) as SeedState;
  if (!state || typeof state !== 'object' || Array.isArray(state))
    throw new Error(`${path}: a state file must hold a JSON object`);
  return state;
}

function listHeader(org: Organization, list: ListState): Omit<SeedList, 'records'> {
  return {
    organization: org.name,
    api_name: list.apiName,
    name: list.name,
    type: list.type,
    description: list.description,
    tags: list.tags,
    fields: list.fields.map((f) => fieldJson(f) as unknown as NonNullable<SeedList['fields']>[number]),
    business_key: list.businessKey ?? null,
    segments: [...list.segments.values()].map((s) => ({
      api_name: s.apiName,
      name: s.name,
      type: s.type,
      description: s.description,
      members: [...s.members].sort((a, b) => a - b),
    })),
  };
}

function recordJson(list: ListState, id: number, values: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const idPos = list.idPosition;
  if (idPos === undefined) out.ID = id;
  list.fields.forEach((f, p) => (out[f.name] = list.value(values, p)));
  return out;
}

/** The whole state as one object (for GET /__simulator/state). */
export function snapshot(store: Store): SeedState {
  const lists: SeedList[] = [];
  for (const org of store.organizations.values()) {
    for (const list of org.lists.values()) {
      const records: Array<Record<string, unknown>> = [];
      for (const [id, values] of list.records) records.push(recordJson(list, id, values));
      lists.push({ ...listHeader(org, list), records });
    }
  }
  return { organizations: [...store.organizations.values()].map((o) => o.name), lists };
}

export async function saveStateFile(store: Store, path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  try {
    await write(`{"organizations":${JSON.stringify([...store.organizations.values()].map((o) => o.name))},"lists":[`);
    let firstList = true;
    for (const org of store.organizations.values()) {
      for (const list of org.lists.values()) {
        const header = JSON.stringify(listHeader(org, list));
        await write(`${firstList ? '' : ','}\n${header.slice(0, -1)},"records":[`);
        firstList = false;
        let first = true;
        let buf = '';
        for (const [id, values] of list.records) {
          buf += `${first ? '' : ','}\n${stringifyExact(recordJson(list, id, values))}`;
          first = false;
          if (buf.length > 1 << 20) {
            await write(buf);
            buf = '';
          }
        }
        await write(buf + ']}');
      }
    }
    await write('\n]}\n');
    out.end();
    await once(out, 'finish');
  } catch (e) {
    out.destroy();
    throw e;
  }
  await rename(tmp, path);
}
