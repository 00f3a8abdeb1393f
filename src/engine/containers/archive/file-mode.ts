/** Go `os.FileMode` bits (type bits high, permissions low), as dockerd's PathStat carries them. */
import type { Stats } from 'node:fs';

const DIR = 2 ** 31;
const SYMLINK = 2 ** 27;
const DEVICE = 2 ** 26;
const NAMED_PIPE = 2 ** 25;
const SOCKET = 2 ** 24;
const SETUID = 2 ** 23;
const SETGID = 2 ** 22;
const CHAR_DEVICE = 2 ** 21;
const STICKY = 2 ** 20;

/** Converts an lstat result to a Go FileMode (a non-negative integer below 2^32). */
export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode += DIR;
  else if (st.isSymbolicLink()) mode += SYMLINK;
  else if (st.isBlockDevice()) mode += DEVICE;
  else if (st.isCharacterDevice()) mode += DEVICE + CHAR_DEVICE;
  else if (st.isFIFO()) mode += NAMED_PIPE;
  else if (st.isSocket()) mode += SOCKET;
  if (st.mode & 0o4000) mode += SETUID;
  if (st.mode & 0o2000) mode += SETGID;
  if (st.mode & 0o1000) mode += STICKY;
  return mode;
}
