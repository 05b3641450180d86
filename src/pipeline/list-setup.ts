import type { ListReport } from '../report/types.js';
import type { RunContext } from './context.js';
import { createOnce } from './create-once.js';
import { CREATED_LIST_DESCRIPTION, type PreflightResult } from './preflight.js';

/**
 * The List set-up: creates the List and the fields preflight found missing (or finishes the set-up of
 * one an earlier run created), then defines its unique key. Fills `list` as each step succeeds.
 */
export async function setUpList(ctx: RunContext, checked: PreflightResult, list: ListReport): Promise<void> {
  const { client, settings, logger } = ctx;
  if (checked.listExists && !checked.resumeSetup) return;
  const org = settings.organization;
  const name = settings.list_api_name;
  if (!checked.listExists) {
    await createOnce(
      logger,
      `List ${name}`,
      () => client.createList(org, { api_name: name, name, type: 'Userlist', description: CREATED_LIST_DESCRIPTION }),
      async () => Boolean(await client.getList(org, name)),
    );
    list.created = true;
    logger.info({ list: name }, `created List ${name}`);
  }
  if (checked.fieldsToCreate.length > 0) {
    await createOnce(
      logger,
      `the fields of List ${name}`,
      () => client.createFields(org, name, checked.fieldsToCreate),
      async () => {
        const fields = new Set((await client.getFields(org, name)).map((field) => field.name.toUpperCase()));
        return checked.fieldsToCreate.every((field) => fields.has(field.name.toUpperCase()));
      },
    );
    list.fields_created = checked.fieldsToCreate.map((field) => field.name);
    list.fields_created_types = checked.fieldsToCreate.map((field) => ({
      name: field.name,
      data_type: field.data_type,
      ...(field.length ? { length: field.length } : {}),
    }));
    logger.info({ list: name, fields: list.fields_created }, `created ${list.fields_created.length} field(s)`);
  }
  // Exactly key_fields, in their order: the load's keyFields must match the index.
  const refused = await client.setBusinessKey(org, name, settings.key_fields);
  if (refused) {
    const message = `PUT .../lists/${name}/businesskey answered ${refused.unsupported}: this tenant does not offer the business key endpoint, so List ${name} has no unique key defined by the exporter; the loads decide (a load that needs the index is refused with KEY_INDEX_MISSING)`;
    ctx.results.warnings.push({ code: 'BUSINESS_KEY_UNSUPPORTED', message });
    logger.warn({ list: name, status: refused.unsupported }, message);
  } else {
    list.business_key_set = true;
  }
}

/** The List's figures before set-up and load: `existed` is what preflight found. */
export function emptyListReport(apiName: string, existed: boolean): ListReport {
  return {
    api_name: apiName,
    existed,
    created: false,
    fields_created: [],
    fields_created_types: [],
    business_key_set: false,
    requests: 0,
    rows_sent: 0,
    inserted: 0,
    updated: 0,
    failed: 0,
    duplicates: 0,
    not_found: 0,
    not_applied: 0,
    failed_without_detail: 0,
  };
}
