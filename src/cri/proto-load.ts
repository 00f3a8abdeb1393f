/**
 * Loads the CRI's upstream protos (src/cri/proto/) into gRPC service definitions. The files
 * import gogoproto for Go code generation only; those lines are dropped before parsing, which
 * changes nothing on the wire.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { parse } from 'protobufjs';

export type CriVersion = 'v1' | 'v1alpha2';

/** How messages look in handlers: proto field names, enums as names, int64 as strings on input. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** Copied beside this module at build time (scripts/gen-cri-types.js). */
export const PROTO_DIR = join(__dirname, 'proto');

/** The proto text without its gogoproto import and options. */
export function criProtoText(version: CriVersion): string {
  const text = readFileSync(join(PROTO_DIR, `api-${version}.proto`), 'utf8');
  return text
    .split('\n')
    .filter((line) => !/gogoproto/.test(line))
    .join('\n');
}

export interface CriServices {
  runtime: protoLoader.ServiceDefinition;
  image: protoLoader.ServiceDefinition;
}

/** The RuntimeService and ImageService definitions of one CRI version. */
export function loadCriServices(version: CriVersion): CriServices {
  const root = parse(criProtoText(version), { keepCase: true }).root;
  const pkg = protoLoader.fromJSON(root.toJSON(), LOADER_OPTIONS);
  const service = (name: string) => pkg[`runtime.${version}.${name}`] as protoLoader.ServiceDefinition;
  return { runtime: service('RuntimeService'), image: service('ImageService') };
}
