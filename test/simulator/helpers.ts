/** Test helpers for the simulator suite: start a simulator on port 0 and talk to it with fetch. */

import {
  DEV_API_KEY,
  DEV_API_SECRET,
  startSimulator,
  type SimulatorHandle,
  type SimulatorOptions,
} from '../../src/simulator/index.js';

export const AUTH = `${DEV_API_KEY}:${DEV_API_SECRET}`;
export const ORG = 'my_org';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // Answers are asserted field by field; the assertions are their type check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface Client {
  sim: SimulatorHandle;
  /** URL of a path under /Portal/Api/organizations/{org}. */
  url(path: string, org?: string): string;
  call(
    method: string,
    path: string,
    body?: unknown,
    init?: { headers?: Record<string, string>; org?: string; raw?: boolean },
  ): Promise<Answer>;
  load(list: string, query: string, rows: unknown[]): Promise<Answer>;
  loadSegment(list: string, segment: string, query: string, rows: unknown[]): Promise<Answer>;
}

export async function answer(r: Response): Promise<Answer> {
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export function client(sim: SimulatorHandle): Client {
  const url = (path: string, org = ORG) => `${sim.baseUrl}/Portal/Api/organizations/${encodeURIComponent(org)}${path}`;
  const call: Client['call'] = async (method, path, body, init = {}) => {
    const headers: Record<string, string> = { 'X-ApiKey': AUTH };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    Object.assign(headers, init.headers);
    for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k];
    const r = await fetch(init.raw ? path : url(path, init.org), {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return answer(r);
  };
  return {
    sim,
    url,
    call,
    load: (list, query, rows) => call('POST', `/lists/${list}/data/load?${query}`, rows),
    loadSegment: (list, segment, query, rows) =>
      call('POST', `/lists/${list}/segments/${segment}/data/load?${query}`, rows),
  };
}

/** A simulator with a Userlist `contacts` (CUSTOMER_IDENTIFIER Text 50, EMAIL Text 50, AGE Long) unless `seed` is given. */
export async function withSim(options: SimulatorOptions, fn: (c: Client) => Promise<void>): Promise<void> {
  const sim = await startSimulator({
    port: 0,
    seed: {
      lists: [
        {
          api_name: 'contacts',
          fields: [
            { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
            { name: 'EMAIL', data_type: 'Text', length: 50 },
            { name: 'AGE', data_type: 'Long' },
          ],
          segments: [{ api_name: 'vip' }, { api_name: 'dyn', type: 'Dynamic' }],
        },
      ],
    },
    ...options,
  });
  try {
    await fn(client(sim));
  } finally {
    await sim.close();
  }
}

export const KEY = 'keyFields=CUSTOMER_IDENTIFIER';
export const FIELDS3 = 'fields=CUSTOMER_IDENTIFIER,EMAIL,AGE';
