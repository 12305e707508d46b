/**
 * The least-privilege ACL the Redis adapter needs, shared by tests and quoted in the docs:
 * SET/DEL/GET on the allowed key pattern, EVALSHA/EVAL (and PTTL/TIME inside the scripts), plus what ioredis sends while connecting (HELLO,
 * AUTH, the INFO ready check; ioredis ignores a refused CLIENT SETINFO) and, for clusters, CLUSTER SLOTS/INFO.
 */
export const ADAPTER_COMMAND_RULES: readonly string[] = [
  '-@all',
  '+set',
  '+del',
  '+get',
  '+ping',
  '+hello',
  '+auth',
  '+info',
  '+cluster|slots',
  '+cluster|info',
  '+asking',
  // Versioned commands and reader leases run Lua scripts, which call GET, SET, DEL, PTTL, TIME.
  '+evalsha',
  '+eval',
  '+script|load',
  '+pttl',
  '+time',
];

/**
 * ACL rules for a user limited to keys matching `patterns` (e.g. `contract:*`, and
 * `ddbcs:tag:contract:*` for the states of tags named `contract:...`).
 */
export function adapterAclRules(...patterns: string[]): string[] {
  return [...patterns.map((pattern) => `~${pattern}`), ...ADAPTER_COMMAND_RULES];
}
