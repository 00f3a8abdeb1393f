/**
 * An OCI mount's `options` as mount(2) wants them: MS_* flags, a propagation change applied
 * afterwards, and the rest as the filesystem's data string. The table is runc's: every option it
 * knows sets or clears a flag; anything else belongs to the filesystem (`mode=755`, `size=64k`).
 */
import { MS } from './linux-constants';

export interface MountFlags {
  flags: number;
  propagation: number;
  data: string;
}

/** [clear?, flag]: `ro` sets MS_RDONLY, `rw` clears it. */
const FLAG_OPTIONS: Readonly<Record<string, readonly [boolean, number]>> = {
  async: [true, MS.SYNCHRONOUS],
  atime: [true, MS.NOATIME],
  bind: [false, MS.BIND],
  defaults: [false, 0],
  dev: [true, MS.NODEV],
  diratime: [true, MS.NODIRATIME],
  dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC],
  mand: [false, MS.MANDLOCK],
  noatime: [false, MS.NOATIME],
  nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME],
  noexec: [false, MS.NOEXEC],
  nomand: [true, MS.MANDLOCK],
  norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME],
  nosuid: [false, MS.NOSUID],
  rbind: [false, MS.BIND | MS.REC],
  relatime: [false, MS.RELATIME],
  remount: [false, MS.REMOUNT],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  strictatime: [false, MS.STRICTATIME],
  suid: [true, MS.NOSUID],
  sync: [false, MS.SYNCHRONOUS],
};

const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

export function parseMountOptions(options: readonly string[]): MountFlags {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const flag = Object.hasOwn(FLAG_OPTIONS, o) ? FLAG_OPTIONS[o] : undefined;
    if (flag) {
      flags = flag[0] ? flags & ~flag[1] : flags | flag[1];
    } else if (Object.hasOwn(PROPAGATION_OPTIONS, o)) {
      // The last propagation option wins, as in runc.
      propagation = PROPAGATION_OPTIONS[o];
    } else {
      data.push(o);
    }
  }
  return { flags, propagation, data: data.join(',') };
}

/** A propagation name (`linux.rootfsPropagation`) as flags; undefined for an unknown name. */
export function propagationFlags(name: string): number | undefined {
  return Object.hasOwn(PROPAGATION_OPTIONS, name) ? PROPAGATION_OPTIONS[name] : undefined;
}
