/**
 * One message of dockerd's JSON progress stream, as pull, push and build report it; the API
 * writes each as a line (and adds the error line itself).
 */
export interface ProgressMessage {
  /** `Pulling fs layer`, `Pushed`, `Digest: …`, `Status: …` */
  status?: string;
  /** The layer (short digest) or tag the status is about. */
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** Build output (`Step 1/3 : FROM busybox`, a RUN's output). */
  stream?: string;
  /** What the client reads back: a built image's ID, a pushed tag's digest. */
  aux?: { ID: string } | { Tag: string; Digest: string; Size: number };
}
