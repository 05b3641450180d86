import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { parseSettings, type Settings } from './settings.js';

/** A settings file or text larger than this is not a settings document. */
const MAX_SETTINGS_BYTES = 1024 * 1024;

export interface SettingsSource {
  settings: Settings;
  /** Where they came from, for the report: a file path or an environment variable name. */
  from: string;
}

/**
 * Settings come from `--settings FILE`, else from `RESULT_SETTINGS` / `result_settings` in the
 * environment (digdag's `sh>` passes a map parameter as JSON text under its own name). Either form may be
 * the bare map or a document with a top-level `result_settings:` key.
 */
export async function loadSettings(settingsPath: string | undefined, env: NodeJS.ProcessEnv): Promise<SettingsSource> {
  if (settingsPath) {
    let text: string;
    try {
      const buffer = await readFile(settingsPath);
      if (buffer.length > MAX_SETTINGS_BYTES)
        throw invalid(`--settings ${settingsPath}: file is larger than 1 MiB; is this the right file?`);
      text = buffer.toString('utf8');
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(
        'SETTINGS_UNREADABLE',
        `--settings ${settingsPath}: cannot read the file (${code ?? (error as Error).message})`,
        { stage: 'settings' },
      );
    }
    return { settings: settingsFromText(text, settingsPath), from: settingsPath };
  }
  for (const name of ['RESULT_SETTINGS', 'result_settings']) {
    const text = env[name];
    if (text !== undefined && text.trim() !== '')
      return { settings: settingsFromText(text, name), from: `env ${name}` };
  }
  throw new ConfigError(
    'SETTINGS_MISSING',
    'no settings: pass --settings FILE, or set RESULT_SETTINGS (YAML or JSON text of the result_settings map)',
    { stage: 'settings' },
  );
}

export function settingsFromText(text: string, source: string): Settings {
  const value = parseYaml(text, source);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'result_settings' in value) {
    // A digdag task snippet: other keys (td>, result_connection, ...) sit beside result_settings.
    const inner = (value as Record<string, unknown>).result_settings;
    const innerSource = `${source} result_settings`;
    return parseSettings(typeof inner === 'string' ? parseYaml(inner, innerSource) : inner, innerSource);
  }
  return parseSettings(value, source);
}

function parseYaml(text: string, source: string): unknown {
  if (text.length > MAX_SETTINGS_BYTES) throw invalid(`${source}: larger than 1 MiB; is this a settings document?`);
  // A settings map is tiny; refusing deep alias expansion stops "billion laughs" documents.
  // `merge` resolves YAML merge keys (`<<: *defaults`), common in digdag files that share settings.
  const options = { maxAliasCount: 20, uniqueKeys: true, prettyErrors: true, merge: true } as const;
  const document = parseDocument(text, options);
  if (document.errors.length > 0) {
    // With prettyErrors the message ends with "at line N, column M:"; the position goes first here.
    const message = firstLine(document.errors[0]!.message);
    const at = /^(.*) at line (\d+), column (\d+):?$/.exec(message);
    throw invalid(
      at
        ? `${source}: not valid YAML or JSON at line ${at[2]}, column ${at[3]}: ${at[1]}`
        : `${source}: not valid YAML or JSON: ${message}`,
    );
  }
  try {
    return document.toJS(options);
  } catch (error) {
    throw invalid(`${source}: cannot be read as settings: ${firstLine((error as Error).message)}`);
  }
}

function invalid(message: string): ConfigError {
  return new ConfigError('SETTINGS_INVALID', message, { stage: 'settings' });
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}
