/**
 * The `X-Docker-Container-Path-Stat` header of the archive endpoints: the PathStat JSON in
 * base64 StdEncoding (`[moby] api/server/router/container/copy.go`, setContainerPathStatHeader).
 */
import type { PathStat } from '../../engine/containers/archive/container-path';

export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

export function encodePathStat(stat: PathStat): string {
  const { name, size, mode, mtime, linkTarget } = stat;
  return Buffer.from(JSON.stringify({ name, size, mode, mtime, linkTarget })).toString('base64');
}
