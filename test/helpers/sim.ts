import {
  DEV_API_KEY,
  DEV_API_SECRET,
  startSimulator,
  type SimulatorHandle,
  type SimulatorOptions,
} from '../../src/simulator/index.ts';

export type { SimulatorHandle };

export const ORG = 'my_org';
export const LIST = 'master_contacts';

/** The settings every end-to-end test starts from: the samples' List, routing column and key. */
export const BASE_SETTINGS = {
  organization: ORG,
  list_api_name: LIST,
  segment_column: 'selligent_segment',
  key_fields: 'CUSTOMER_IDENTIFIER',
  create_segment_if_not_exists: true,
};

export async function simulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ port: 0, ...options });
}

export function selligentEnv(sim: SimulatorHandle, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SELLIGENT_BASE_URL: sim.baseUrl,
    SELLIGENT_API_KEY: DEV_API_KEY,
    SELLIGENT_API_SECRET: DEV_API_SECRET,
    ...extra,
  };
}

/** Requests that could have changed state. */
export function writes(sim: SimulatorHandle) {
  return sim.requestLog().filter((entry) => entry.method !== 'GET' && !/\/data\/search$/i.test(entry.path));
}

export function members(sim: SimulatorHandle, segment: string, key = 'CUSTOMER_IDENTIFIER', list = LIST): string[] {
  return sim
    .segmentMembers(ORG, list, segment)
    .map((record) => String(record[key]))
    .sort();
}

export function records(sim: SimulatorHandle, list = LIST): Array<Record<string, unknown>> {
  return sim.listRecords(ORG, list);
}

export function record(sim: SimulatorHandle, id: string, list = LIST): Record<string, unknown> | undefined {
  return records(sim, list).find((r) => r.CUSTOMER_IDENTIFIER === id);
}

/** A seeded List like the samples': customer id key, e-mail and names as Text. */
export function seededList(
  extra: {
    fields?: Array<{ name: string; data_type: string; length?: number }>;
    records?: Array<Record<string, unknown>>;
    segments?: Array<{ api_name: string; type?: string; members?: Array<Record<string, unknown>> }>;
  } = {},
) {
  return {
    lists: [
      {
        api_name: LIST,
        fields: [
          { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
          { name: 'EMAIL', data_type: 'Text', length: 200 },
          { name: 'FIRST_NAME', data_type: 'Text', length: 100 },
          { name: 'LAST_NAME', data_type: 'Text', length: 100 },
          ...(extra.fields ?? []),
        ],
        records: extra.records ?? [],
        segments: extra.segments ?? [],
        business_key: ['CUSTOMER_IDENTIFIER'],
      },
    ],
  };
}
