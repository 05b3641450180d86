/** Why a path could not be used, in words, with the system's code for searching. */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'does not exist',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EEXIST: 'a part of the path is a file, not a directory',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
  };
  return code ? `${words[code] ?? 'cannot be used'}: ${code}` : (error as Error).message;
}
