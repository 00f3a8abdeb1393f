import type { FastifyRequest } from 'fastify';
import type { RegistryCredentials } from '../engine/registry/registry-client';

/** A header holding base64url JSON (the CLI's auth headers); undefined when absent or unreadable. */
function headerJson(request: FastifyRequest, name: string): unknown {
  const header = request.headers[name];
  if (typeof header !== 'string' || header === '') return undefined;
  try {
    return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The credential fields of one auth config object (empty strings count as absent). */
function credentials(v: unknown): RegistryCredentials {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  return { username: str('username'), password: str('password'), identitytoken: str('identitytoken'), registrytoken: str('registrytoken') };
}

/** `X-Registry-Auth` (pull, push): one registry's credentials; an unreadable header counts as none (dockerd). */
export function registryAuth(request: FastifyRequest): RegistryCredentials {
  const v = headerJson(request, 'x-registry-auth');
  return v === undefined ? {} : credentials(v);
}

/** `X-Registry-Config` (build): credentials by registry, every login the CLI knows. */
export function registryConfig(request: FastifyRequest): Record<string, RegistryCredentials> {
  const v = headerJson(request, 'x-registry-config');
  if (!v || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v).map(([registry, auth]) => [registry, credentials(auth)]));
}
