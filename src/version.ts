import { readFileSync } from 'node:fs';

/** Read from package.json at run time so the one version number lives in one place. */
export const VERSION: string = (() => {
  try {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export const TOOL_NAME = 'selligent-export';
