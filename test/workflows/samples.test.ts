/**
 * Keeps the digdag workflows (workflows/) and the runnable samples (digdag-samples/) from rotting:
 * every settings file and every exporter `result_settings:` block must pass the exporter's own settings
 * parser, secrets may only arrive through `_env` as `${secret:...}`, and the files the workflows name
 * must exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { settingsFromText } from '../../src/config/load.js';
import { parseSettings } from '../../src/config/settings.js';
import { parseSchema } from '../../src/schema/schema-file.js';
import { startSimulator } from '../../src/simulator/index.js';
import { scalarText } from '../../src/scalar-text.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIRS = ['workflows', 'digdag-samples'];

/** `.yml` files that are not export settings, and what they are instead. */
const OTHER_YAML: Record<string, 'simulator-config'> = {
  'digdag-samples/simulator.yml': 'simulator-config',
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === '.digdag' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

const files = DIRS.flatMap((dir) => walk(join(ROOT, dir)));
const rel = (path: string) => relative(ROOT, path).split('\\').join('/');
const digFiles = files.filter((f) => f.endsWith('.dig'));
const ymlFiles = files.filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));
const settingsFiles = ymlFiles.filter((f) => f.endsWith('.settings.yml'));

function parseYamlFile(path: string): unknown {
  const document = parseDocument(readFileSync(path, 'utf8'), { uniqueKeys: true, prettyErrors: false });
  assert.deepEqual(
    document.errors.map((e) => e.message),
    [],
    `${rel(path)} is not valid YAML`,
  );
  assert.deepEqual(
    document.warnings.map((w) => w.message),
    [],
    `${rel(path)} has YAML warnings`,
  );
  return document.toJS();
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isMap = (value: unknown): value is Record<string, Json> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

interface Found {
  path: string[];
  value: Json;
  /** The map holding `result_settings:` (the task). */
  task: Record<string, Json>;
}

/** Every `result_settings` in a document, with its task. */
function findResultSettings(node: Json, path: string[] = []): Found[] {
  const found: Found[] = [];
  if (Array.isArray(node)) {
    node.forEach((item, i) => found.push(...findResultSettings(item, [...path, String(i)])));
  } else if (isMap(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'result_settings') found.push({ path: [...path, key], value, task: node });
      else found.push(...findResultSettings(value, [...path, key]));
    }
  }
  return found;
}

/**
 * A `result_settings` belongs to the exporter unless its task is `td_result_export>` (those are the
 * settings of Treasure Data's own export connection, e.g. S3 bucket and path).
 */
const isExporterSettings = (found: Found) => !('td_result_export>' in found.task);

const SECRET_KEY = /(api[_-]?key|apikey|secret|passw(or)?d|token|access[_-]?key|private[_-]?key|credential)/i;
const SECRET_REF = /^\$\{secret:[A-Za-z0-9_.-]+\}$/;

/** Problems with how a workflow document handles secrets; empty when it is clean. */
function secretProblems(node: Json, path: string[] = []): string[] {
  const problems: string[] = [];
  const where = (key: string) => [...path, key].join('.');
  if (Array.isArray(node)) {
    node.forEach((item, i) => problems.push(...secretProblems(item, [...path, String(i)])));
    return problems;
  }
  if (!isMap(node)) return problems;
  for (const [key, value] of Object.entries(node)) {
    const underEnv = path[path.length - 1] === '_env';
    if (key === 'result_settings') {
      // Settings travel as a plain environment variable and land in the run report: never a secret.
      for (const [k, v] of Object.entries(isMap(value) ? value : {})) {
        if (SECRET_KEY.test(k)) problems.push(`${where(key)}.${k}: a secret-looking key inside result_settings`);
        if (typeof v === 'string' && v.includes('${secret:'))
          problems.push(`${where(key)}.${k}: a secret inside result_settings`);
      }
      continue;
    }
    if (typeof value === 'string' && value.includes('${secret:') && !underEnv) {
      problems.push(`${where(key)}: \${secret:...} outside _env`);
    }
    if (SECRET_KEY.test(key) && !isMap(value) && !Array.isArray(value)) {
      if (!underEnv)
        problems.push(
          `${where(key)}: a secret-looking key outside _env (plain parameters and _export are passed to every task)`,
        );
      else if (typeof value !== 'string' || !SECRET_REF.test(value))
        problems.push(`${where(key)}: must be exactly \${secret:NAME}, got a literal value`);
    }
    problems.push(...secretProblems(value, [...path, key]));
  }
  return problems;
}

function csvHeader(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/, 1)[0]!
    .split(',')
    .map((name) => name.trim());
}

describe('workflows and samples: files', () => {
  it('finds the workflows and the samples', () => {
    assert.ok(digFiles.length >= 7, `expected at least 7 .dig files, found ${digFiles.map(rel).join(', ')}`);
    for (const sample of ['basic', 'multi_segment', 'replace', 'create_list']) {
      for (const ext of ['.sql', '.csv', '.settings.yml', '.dig']) {
        const path = join(ROOT, 'digdag-samples', sample, `${sample}${ext}`);
        assert.ok(existsSync(path), `missing ${rel(path)}`);
      }
      assert.ok(
        existsSync(join(ROOT, 'digdag-samples', sample, 'README.md')),
        `missing digdag-samples/${sample}/README.md`,
      );
    }
  });

  it('every .yml is either a settings file (*.settings.yml) or a known other kind', () => {
    for (const file of ymlFiles) {
      if (file.endsWith('.settings.yml')) continue;
      assert.ok(
        OTHER_YAML[rel(file)],
        `${rel(file)}: name settings files *.settings.yml, or list this file in OTHER_YAML`,
      );
    }
  });
});

describe('settings files', () => {
  for (const file of settingsFiles) {
    it(`${rel(file)} passes the exporter's settings parser`, () => {
      const raw = parseYamlFile(file);
      const settings = parseSettings(raw, rel(file));
      // The exporter's own loader (what --settings does) agrees.
      assert.deepEqual(settingsFromText(readFileSync(file, 'utf8'), rel(file)), settings);
    });
  }
});

describe('result_settings blocks', () => {
  const all = digFiles.flatMap((file) =>
    findResultSettings(parseYamlFile(file) as Json).map((found) => ({ file, found })),
  );

  it('finds them', () => {
    const exporter = all.filter(({ found }) => isExporterSettings(found));
    assert.ok(exporter.length >= 9, `expected at least 9 exporter result_settings blocks, found ${exporter.length}`);
  });

  for (const { file, found } of all) {
    const name = `${rel(file)}: ${found.path.join('.')}`;
    if (isExporterSettings(found)) {
      it(`${name} passes the exporter's settings parser`, () => {
        assert.ok(isMap(found.value), `${name}: result_settings must be a map (digdag passes it as JSON text)`);
        parseSettings(found.value, name);
        // What sh> hands over: the map as JSON text in the environment variable result_settings.
        settingsFromText(JSON.stringify(found.value), 'result_settings');
        // An exporter task runs the exporter.
        const command = found.task['sh>'];
        assert.equal(typeof command, 'string', `${name}: expected an sh> task`);
        assert.match(command as string, /selligent-export run|scripts\/selligent_export\.sh/);
      });
    } else {
      it(`${name} is a Treasure Data export to S3 as gzip CSV`, () => {
        assert.ok(isMap(found.value));
        assert.equal(typeof found.value.bucket, 'string');
        assert.match(scalarText(found.value.path), /\.csv\.gz$/);
        assert.equal(found.value.format, 'csv');
        assert.equal(found.value.compression, 'gz');
      });
    }
  }

  for (const sample of ['basic', 'multi_segment', 'replace', 'create_list']) {
    it(`digdag-samples/${sample}: the .dig carries the same settings as ${sample}.settings.yml`, () => {
      const dig = parseYamlFile(join(ROOT, 'digdag-samples', sample, `${sample}.dig`)) as Json;
      const blocks = findResultSettings(dig).filter(isExporterSettings);
      assert.equal(blocks.length, 1);
      const fromFile = parseSettings(parseYamlFile(join(ROOT, 'digdag-samples', sample, `${sample}.settings.yml`)));
      assert.deepEqual(parseSettings(blocks[0]!.value), fromFile);
    });
  }

  it('parallel tasks sharing one API key split the request budget', () => {
    const dig = parseYamlFile(join(ROOT, 'workflows', 'selligent_export_parallel.dig')) as Json;
    const blocks = findResultSettings(dig).filter(isExporterSettings);
    assert.ok(blocks.length >= 2);
    const total = blocks.reduce((sum, block) => sum + parseSettings(block.value).requests_per_minute, 0);
    assert.ok(
      total <= 2500,
      `the parallel tasks ask for ${total} requests per minute together; the per-key budget is 2500`,
    );
  });
});

describe('secrets', () => {
  for (const file of digFiles) {
    it(`${rel(file)}: secrets only through _env as \${secret:...}, never in result_settings or plain parameters`, () => {
      assert.deepEqual(secretProblems(parseYamlFile(file) as Json), []);
    });
  }

  it('the check catches what it should', () => {
    const bad: Json = {
      _export: { SELLIGENT_API_KEY: '${secret:selligent.api_key}', api_secret: 'abc' },
      '+t': {
        'sh>': 'exec selligent-export run',
        _env: { SELLIGENT_API_SECRET: 'plain-text', AWS_ACCESS_KEY_ID: '${secret:aws.key}' },
        result_settings: { organization: 'o', api_key: 'x', list_api_name: '${secret:list}' },
        note: '${secret:elsewhere}',
      },
    };
    const problems = secretProblems(bad);
    assert.equal(problems.length, 7, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('_export.SELLIGENT_API_KEY')));
    assert.ok(problems.some((p) => p.startsWith('_export.api_secret')));
    assert.ok(problems.some((p) => p.startsWith('+t._env.SELLIGENT_API_SECRET: must be exactly')));
    assert.ok(problems.some((p) => p.startsWith('+t.result_settings.api_key')));
    assert.ok(problems.some((p) => p.startsWith('+t.result_settings.list_api_name')));
    assert.ok(problems.some((p) => p.startsWith('+t.note')));
  });
});

describe('what the workflows refer to exists', () => {
  for (const file of digFiles) {
    it(`${rel(file)}: queries, scripts, data and schema files`, () => {
      const base = dirname(file);
      const text = readFileSync(file, 'utf8').replace(/^\s*#.*$/gm, '');
      const refs = [
        ...[...text.matchAll(/td>:\s*(\S+)/g)].map((m) => m[1]!),
        ...[...text.matchAll(/(?:--input|--schema)\s+(?!s3:\/\/)(\S+)/g)].map((m) => m[1]!),
        ...[...text.matchAll(/sh\s+(scripts\/\S+)/g)].map((m) => m[1]!),
      ];
      for (const ref of refs)
        assert.ok(existsSync(join(base, ref)), `${rel(file)} refers to ${ref}, which does not exist`);
    });
  }
});

describe('sample data', () => {
  for (const sample of ['basic', 'multi_segment', 'replace', 'create_list']) {
    it(`digdag-samples/${sample}: the CSV has the routing column and the key fields`, () => {
      const settings = parseSettings(parseYamlFile(join(ROOT, 'digdag-samples', sample, `${sample}.settings.yml`)));
      const header = csvHeader(join(ROOT, 'digdag-samples', sample, `${sample}.csv`)).map((name) => name.toUpperCase());
      assert.ok(header.includes(settings.segment_column.toUpperCase()), `no ${settings.segment_column} column`);
      for (const key of settings.key_fields) assert.ok(header.includes(key), `no ${key} column`);
    });
  }

  it('digdag-samples/create_list: the schema file covers every column', () => {
    const dir = join(ROOT, 'digdag-samples', 'create_list');
    const types = parseSchema(
      JSON.parse(readFileSync(join(dir, 'create_list.schema.json'), 'utf8')),
      'create_list.schema.json',
    );
    for (const column of csvHeader(join(dir, 'create_list.csv')))
      assert.ok(types.has(column.toUpperCase()), `no type for ${column}`);
  });

  it('digdag-samples/simulator.yml starts the simulator with every field the existing-List samples load', async () => {
    const config = parseYamlFile(join(ROOT, 'digdag-samples', 'simulator.yml')) as Record<string, unknown>;
    const sim = await startSimulator({ ...config, host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`${sim.baseUrl}/Portal/Api/organizations/my_org/lists/master_contacts/fields`, {
        headers: { 'X-ApiKey': 'simulator-key:simulator-secret' },
      });
      assert.equal(response.status, 200);
      const fields = new Set(
        ((await response.json()) as { fields: Array<{ name: string }> }).fields.map((f) => f.name.toUpperCase()),
      );
      for (const sample of ['basic', 'multi_segment', 'replace']) {
        const settings = parseSettings(parseYamlFile(join(ROOT, 'digdag-samples', sample, `${sample}.settings.yml`)));
        assert.equal(settings.list_api_name, 'master_contacts');
        for (const column of csvHeader(join(ROOT, 'digdag-samples', sample, `${sample}.csv`))) {
          if (column.toUpperCase() === settings.segment_column.toUpperCase()) continue;
          assert.ok(fields.has(column.toUpperCase()), `${sample}: the List has no field ${column.toUpperCase()}`);
        }
      }
    } finally {
      await sim.close();
    }
  });
});

describe('retries and run options in workflows/', () => {
  const workflowDigs = digFiles.filter((file) => rel(file).startsWith('workflows/'));
  const exporterTasks = workflowDigs.flatMap((file) =>
    findResultSettings(parseYamlFile(file) as Json)
      .filter(isExporterSettings)
      .map((found) => ({ file, found })),
  );

  it('every exporter task retries through scripts/selligent_export.sh (exit 5 only), never digdag _retry (every failure)', () => {
    assert.ok(exporterTasks.length >= 5);
    for (const { file, found } of exporterTasks) {
      const name = `${rel(file)}: ${found.path.slice(0, -1).join('.')}`;
      assert.match(
        scalarText(found.task['sh>']),
        /^(exec )?sh scripts\/selligent_export\.sh /,
        `${name} must run the retry wrapper`,
      );
      assert.equal(
        found.task._retry,
        undefined,
        `${name}: _retry retries every exit code; the wrapper retries exit 5 only`,
      );
    }
    for (const file of workflowDigs)
      assert.doesNotMatch(
        readFileSync(file, 'utf8').replace(/^\s*#.*$/gm, ''),
        /^\s*_retry:/m,
        `${rel(file)} uses _retry`,
      );
  });

  it('selligent_export_local.dig hard-codes neither a user nor the host network', () => {
    const dig = parseYamlFile(join(ROOT, 'workflows', 'selligent_export_local.dig')) as {
      _export: { docker: Record<string, Json> };
    };
    assert.equal(
      dig._export.docker.run_options,
      undefined,
      'run_options belong to the machine that runs digdag: explained in a comment, not set',
    );
    const text = readFileSync(join(ROOT, 'workflows', 'selligent_export_local.dig'), 'utf8');
    assert.match(text, /#.*--user UID:GID/);
    assert.match(text, /#.*--network host/);
  });

  it('every py> task names a function of a script in the project', () => {
    let found = 0;
    for (const file of workflowDigs) {
      for (const [, module, fn] of readFileSync(file, 'utf8')
        .replace(/^\s*#.*$/gm, '')
        .matchAll(/py>:\s*([\w.]+)\.(\w+)/g)) {
        found++;
        const script = join(dirname(file), `${module!.split('.').join('/')}.py`);
        assert.ok(existsSync(script), `${rel(file)}: py> ${module}.${fn}: no ${rel(script)}`);
        assert.match(
          readFileSync(script, 'utf8'),
          new RegExp(`^def ${fn}\\(`, 'm'),
          `${rel(script)} has no function ${fn}`,
        );
      }
    }
    assert.ok(found >= 2);
  });

  it("only the export task runs in the exporter image in selligent_export_results.dig (py> and curl run on digdag's machine)", () => {
    const dig = parseYamlFile(join(ROOT, 'workflows', 'selligent_export_results.dig')) as Record<
      string,
      Record<string, Json>
    >;
    assert.equal((dig._export as Record<string, Json>).docker, undefined);
    assert.ok(isMap(dig['+load_into_selligent']!.docker));
    for (const [name, task] of Object.entries(dig))
      if (name.startsWith('+') && name !== '+load_into_selligent') assert.equal(task.docker, undefined, name);
  });
});

describe('selligent_export_changes.dig', () => {
  it('runs changes-only sync daily and a full resync on Sundays, with the state on S3', () => {
    type Task = Record<string, unknown>;
    const dig = parseYamlFile(join(ROOT, 'workflows', 'selligent_export_changes.dig')) as {
      '+load_into_selligent': { 'if>': string; _do: Record<string, Task>; _else_do: Record<string, Task> };
    };
    const task = dig['+load_into_selligent'];
    assert.match(task['if>'], /isoWeekday\(\) == 7/);
    const full = task._do['+full_resync']!;
    const daily = task._else_do['+changes']!;
    assert.match(String(full['sh>']), /--full-resync/);
    assert.doesNotMatch(String(daily['sh>']), /--full-resync/);
    for (const run of [full, daily]) {
      assert.equal((run.result_settings as Record<string, unknown>).sync_mode, 'changes');
      assert.match(String((run._env as Record<string, unknown>).STATE_URI), /^s3:\/\/.+\/state\/$/);
    }
  });
});
