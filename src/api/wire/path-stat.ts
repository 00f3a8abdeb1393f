/**
 * The `X-Docker-Container-Path-Stat` header of the archive endpoints: the PathStat JSON in
 * base64 StdEncoding (`[moby] api/server/router/container/copy.go`, setContainerPathStatHeader).
 */
export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

export interface WirePathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export function encodePathStat(stat: WirePathStat): string {
  const { name, size, mode, mtime, linkTarget } = stat;
  return Buffer.from(JSON.stringify({ name, size, mode, mtime, linkTarget })).toString('base64');
}

export function decodePathStat(header: string): WirePathStat {
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as WirePathStat;
}
