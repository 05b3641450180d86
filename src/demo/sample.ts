/**
 * The demo's data, shipped with the code so that the demo needs nothing else: a small query result,
 * its settings, and the Selligent tenant it goes into.
 *
 * The rows are chosen so that every kind of fate shows: an update of a record the List already holds,
 * inserts, a row skipped by validation (no key), a key that appears twice (merged: the last row wins),
 * and a first name longer than the List's FIRST_NAME field, which Selligent rejects.
 */
import type { SeedState } from '../simulator/index.js';

export const DEMO_ORGANIZATION = 'my_org';
export const DEMO_LIST = 'master_contacts';
export const DEMO_KEY_FIELD = 'CUSTOMER_IDENTIFIER';

/** Length of the List's FIRST_NAME field: the sample's one longer name does not fit. */
export const FIRST_NAME_LENGTH = 30;

export const DEMO_CSV = [
  'selligent_segment,customer_identifier,email,first_name,lifetime_value,last_purchase_at',
  'vip_customers,C101,mei@example.com,Mei,1520.50,2026-05-01 10:15:00',
  're_engagement,C204,dan@example.com,Dan,210.00,2025-09-20 08:30:00',
  'standard_customers,C319,lina@example.com,Lina,480.75,2026-04-12 19:45:00',
  'vip_customers,C422,ana@example.com,Ana,2210.00,2026-05-03 09:00:00',
  'standard_customers,,nobody@example.com,Nobody,12.00,2026-01-01 00:00:00',
  're_engagement,C204,dan.new@example.com,Dan,245.00,2026-05-02 11:00:00',
  'standard_customers,C530,max@example.com,Maximiliana Alexandrina Konstantinopoulou,99.90,2026-03-14 16:20:00',
  '',
].join('\n');

/** result_settings as a digdag task would give them. */
export const DEMO_SETTINGS: Record<string, unknown> = {
  organization: DEMO_ORGANIZATION,
  list_api_name: DEMO_LIST,
  segment_column: 'selligent_segment',
  key_fields: DEMO_KEY_FIELD,
  segment_data_import_option: 'append',
  list_data_import_option: 'InsertAndUpdate',
  create_segment_if_not_exists: true,
  deduplication: 'ImportLastMatch',
  error_handling: 'ContinueOnError',
};

/** The tenant before the run: the List with its fields and one customer, already in one Segment. */
export const DEMO_SEED: SeedState = {
  organizations: [DEMO_ORGANIZATION],
  lists: [
    {
      organization: DEMO_ORGANIZATION,
      api_name: DEMO_LIST,
      name: 'Master contacts',
      fields: [
        { name: DEMO_KEY_FIELD, data_type: 'Text', length: 50 },
        { name: 'EMAIL', data_type: 'Text', length: 255 },
        { name: 'FIRST_NAME', data_type: 'Text', length: FIRST_NAME_LENGTH },
        { name: 'LIFETIME_VALUE', data_type: 'Float' },
        { name: 'LAST_PURCHASE_AT', data_type: 'DateTime' },
      ],
      business_key: [DEMO_KEY_FIELD],
      records: [
        {
          [DEMO_KEY_FIELD]: 'C101',
          EMAIL: 'mei.old@example.com',
          FIRST_NAME: 'Mei',
          LIFETIME_VALUE: 1200,
          LAST_PURCHASE_AT: '2026-01-10T09:00:00Z',
        },
      ],
      segments: [{ api_name: 'vip_customers', name: 'VIP customers', members: [{ [DEMO_KEY_FIELD]: 'C101' }] }],
    },
  ],
};
