import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * The run report's JSON Schema lives in docs/ (users and other tools read it there); it is read from
 * the installed package's docs/ beside dist/ (or src/ under tsx), one directory up from here.
 */
export const REPORT_SCHEMA_URL = new URL('../../docs/report.schema.json', import.meta.url);

export interface ReportProblem {
  /** JSON Pointer to the offending value ("" is the whole document). */
  path: string;
  message: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(REPORT_SCHEMA_URL, 'utf8')) as object;
    compiled = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  }
  return compiled;
}

/** Problems of a parsed report against the schema; empty when it conforms. */
export function validateReport(json: unknown): ReportProblem[] {
  const validate = validator();
  if (validate(json)) return [];
  return mergeMissing(usefulErrors(validate.errors ?? []).map(describe));
}

/** "missing fields a, b, c" once per object rather than a line per field. */
function mergeMissing(problems: ReportProblem[]): ReportProblem[] {
  const merged: ReportProblem[] = [];
  for (const problem of problems) {
    const previous = merged.at(-1);
    if (
      previous &&
      previous.path === problem.path &&
      previous.message.startsWith('missing field') &&
      problem.message.startsWith('missing field "')
    ) {
      previous.message = `missing fields ${previous.message.replace(/^missing fields? /, '')}, ${problem.message.replace(/^missing field /, '')}`;
    } else {
      merged.push({ ...problem });
    }
  }
  return merged;
}

/**
 * A value that matches none of `T | null` yields one error per branch plus the `oneOf` itself; the
 * branch errors say what was wrong, the `oneOf` line only repeats it.
 */
function usefulErrors(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter(
    (error) => error.keyword !== 'oneOf' && !(error.keyword === 'type' && error.params.type === 'null'),
  );
  return specific.length > 0 ? specific : errors;
}

function describe(error: ErrorObject): ReportProblem {
  const path = error.instancePath;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path, message: `unknown field ${JSON.stringify(error.params.additionalProperty)}` };
    case 'required':
      return { path, message: `missing field ${JSON.stringify(error.params.missingProperty)}` };
    case 'enum':
      return {
        path,
        message: `must be one of ${(error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`,
      };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}
