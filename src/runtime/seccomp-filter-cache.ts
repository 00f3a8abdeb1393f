/**
 * crun compiles the spec's seccomp profile to BPF on every create: about 20 of the 40 ms its
 * create takes here with dockerd's default profile (Debian 12, crun 1.8.1). It leaves what it
 * compiled in its state directory (`<root>/<id>/seccomp.bpf`), and it accepts a compiled filter
 * in the `run.oci.seccomp_bpf_data` annotation, with which it skips the compile. This cache keeps
 * the filter crun made for a profile and hands it to later creates of the same profile.
 *
 * The key is the profile exactly as the spec carries it, so a container with other capabilities
 * or another profile gets its own entry (or none, and crun compiles). The spec keeps its seccomp
 * section either way, for whoever reads the bundle.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';

/** The part of an OCI spec the cache reads and writes. */
export interface SeccompSpec {
  annotations?: Record<string, string>;
  linux?: { seccomp?: unknown };
}

/** A few profiles at most are in use at once (default, unconfined-with-caps, a user's file). */
const MAX_FILTERS = 16;

export class SeccompFilterCache {
  /** Profile key → base64 of the compiled filter. */
  private readonly filters = new Map<string, string>();
  /** Container id → the key of the profile crun compiles in its create. */
  private readonly compiling = new Map<string, string>();

  /** @param root the runtime's `--root`, where crun keeps each container's state. */
  constructor(private readonly root: string) {}

  /** Puts the compiled filter into `spec` when its profile was compiled before. */
  prepare(id: string, spec: SeccompSpec): void {
    this.compiling.delete(id);
    const profile = spec.linux?.seccomp;
    if (!profile || spec.annotations?.[SECCOMP_BPF_ANNOTATION] !== undefined) return;
    const key = createHash('sha256').update(JSON.stringify(profile)).digest('hex');
    const filter = this.filters.get(key);
    if (filter) spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: filter };
    else this.compiling.set(id, key);
  }

  /** After a successful create: keeps what crun compiled for the container's profile. */
  async created(id: string): Promise<void> {
    const key = this.compiling.get(id);
    if (key === undefined) return;
    this.compiling.delete(id);
    // A filter is a whole number of 8-byte instructions; anything else is not what crun wrote.
    const bpf = await readFile(join(this.root, id, 'seccomp.bpf')).catch(() => undefined);
    if (!bpf || bpf.length === 0 || bpf.length % 8 !== 0) return;
    if (this.filters.size >= MAX_FILTERS) this.filters.delete(this.filters.keys().next().value as string);
    this.filters.set(key, bpf.toString('base64'));
  }

  /** A create that failed compiles nothing worth keeping. */
  forget(id: string): void {
    this.compiling.delete(id);
  }
}
