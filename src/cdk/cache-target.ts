/**
 * The cache the construct keeps in step with the table: one it creates, or one that exists.
 * Each kind turns into the same {@link CacheConnection}: where the function connects, on which
 * ports, through which security group, with which credentials.
 *
 * @module
 */
import { Names, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** `host` and `port` of a cache endpoint. */
export interface CacheEndpoint {
  readonly address: string;
  readonly port: number | string;
}

/** Valkey (the default: lower priced, protocol-compatible) or Redis OSS. */
export type RedisEngine = 'valkey' | 'redis';

/** Settings shared by the caches the construct creates with RBAC users. */
export interface NewRedisCacheOptions {
  /** Default `valkey`. */
  readonly engine?: RedisEngine;
  /**
   * Pinned major version (serverless) or engine version (replication group), so an engine
   * upgrade is a reviewed change. Default: `8` / `8.0` for Valkey, `7` / `7.1` for Redis OSS.
   */
  readonly engineVersion?: string;
  /**
   * RBAC access string of the function's cache user. Default
   * `on ~* +@all -@dangerous +info`: narrow `~*` to your key prefixes once the rules settle.
   */
  readonly accessString?: string;
  /**
   * Lowercase prefix of the names ElastiCache needs unique in the account and Region (cache,
   * users, user group). Default: derived from the construct path.
   */
  readonly namePrefix?: string;
}

/**
 * Where the cache comes from. Created caches always use TLS, and Valkey/Redis ones an RBAC user
 * whose password Secrets Manager generates; existing ones bring their own security group (the
 * construct adds the ingress rule from the function) and, for Valkey/Redis, their secret.
 *
 * @example
 * ```ts
 * const create: CacheTarget = { kind: 'new-serverless', maxDataStorageGb: 10 };
 * const existing: CacheTarget = {
 *   kind: 'existing-serverless',
 *   endpoint: { address: 'my-cache-abc.serverless.euw1.cache.amazonaws.com', port: 6379 },
 *   securityGroup: ec2.SecurityGroup.fromSecurityGroupId(this, 'CacheSg', 'sg-0123456789abcdef0'),
 *   secret: secretsmanager.Secret.fromSecretNameV2(this, 'CacheSecret', 'cache-writer'),
 * };
 * ```
 */
export type CacheTarget =
  | ({
      readonly kind: 'new-serverless' /** Upper bound on stored data (GB), a cost guard. Default 10. */;
      readonly maxDataStorageGb?: number;
    } & NewRedisCacheOptions)
  | ({
      readonly kind: 'new-replication-group';
      /** Default `cache.t4g.small`. */
      readonly nodeType?: string;
    } & NewRedisCacheOptions)
  | {
      readonly kind: 'new-memcached';
      /** Default `cache.t4g.small`. */
      readonly nodeType?: string;
      /** Default 1. Keys spread over nodes by client hashing: readers must use the same list. */
      readonly nodeCount?: number;
      /** Pinned engine version (TLS needs 1.6.12 or later). Default `1.6.22`. */
      readonly engineVersion?: string;
    }
  | {
      readonly kind: 'existing-serverless';
      readonly endpoint: CacheEndpoint;
      readonly securityGroup: ec2.ISecurityGroup;
      /** JSON secret `{ "username": ..., "password": ... }` of the cache user the function uses. */
      readonly secret: secretsmanager.ISecret;
    }
  | {
      readonly kind: 'existing-replication-group';
      /** The primary endpoint. */
      readonly endpoint: CacheEndpoint;
      readonly securityGroup: ec2.ISecurityGroup;
      readonly secret: secretsmanager.ISecret;
      /** `true` for cluster mode enabled (configuration endpoint). Default `false`. */
      readonly cluster?: boolean;
    }
  | {
      readonly kind: 'existing-memcached';
      /** The cluster's configuration endpoint, asked for the node list at cold start. */
      readonly configurationEndpoint: CacheEndpoint;
      readonly securityGroup: ec2.ISecurityGroup;
    };

/** What the function needs to reach a cache, whatever its kind. */
export interface CacheConnection {
  readonly protocol: 'redis' | 'memcached';
  readonly securityGroup: ec2.ISecurityGroup;
  readonly port: ec2.Port;
  /** Environment variables the example handlers read (see docs/deploy.md). */
  readonly environment: Readonly<Record<string, string>>;
  readonly secret: secretsmanager.ISecret | undefined;
  /** `host:port` of the endpoint the function connects to. */
  readonly endpoint: string;
  readonly serverlessCache: elasticache.CfnServerlessCache | undefined;
  readonly replicationGroup: elasticache.CfnReplicationGroup | undefined;
  readonly cacheCluster: elasticache.CfnCacheCluster | undefined;
}

/** Placement of a created cache. */
export interface CachePlacement {
  readonly vpc: ec2.IVpc;
  readonly subnetIds: string[];
}

// 6379 is the primary endpoint; serverless caches also serve reads on 6380.
const REDIS_PORTS = ec2.Port.tcpRange(6379, 6380);
const MEMCACHED_PORT = 11211;
const DEFAULT_ACCESS_STRING = 'on ~* +@all -@dangerous +info';

function hostPort(endpoint: CacheEndpoint): string {
  return `${endpoint.address}:${Token.isUnresolved(endpoint.port) ? Token.asString(endpoint.port) : String(endpoint.port)}`;
}

function portOf(endpoint: CacheEndpoint, whenUnresolved: ec2.Port): ec2.Port {
  const port = endpoint.port;
  if (typeof port === 'number') return ec2.Port.tcp(port);
  // A token (an imported attribute) resolves only at deploy time: open the engine's usual ports.
  return whenUnresolved;
}

/** ElastiCache identifiers: a lowercase letter first, then letters, digits, single hyphens. */
function elastiCacheName(scope: Construct, prefix: string | undefined): string {
  const raw = prefix ?? Names.uniqueResourceName(scope, { maxLength: 28, separator: '-' });
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/-$/, '');
  const name = /^[a-z]/.test(cleaned) ? cleaned : `c${cleaned}`;
  if (name.length === 0 || name.length > 28) {
    throw new Error(`CacheSync ${scope.node.path}: cache.namePrefix must be 1 to 28 lowercase letters, digits and hyphens, got ${JSON.stringify(prefix)}`);
  }
  return name;
}

function newCacheSecurityGroup(scope: Construct, vpc: ec2.IVpc, engine: string): ec2.SecurityGroup {
  // The cache never opens connections: no egress at all.
  return new ec2.SecurityGroup(scope, 'CacheSecurityGroup', {
    vpc,
    description: `ddb-cache-sync ${engine} cache (ingress from the function only)`,
    allowAllOutbound: false,
  });
}

interface RbacUsers {
  readonly secret: secretsmanager.Secret;
  readonly userGroup: elasticache.CfnUserGroup;
}

/**
 * A disabled `default` user (ElastiCache requires one in every group) and the function's user.
 * Passwords reach ElastiCache as dynamic references: never in the template or the function.
 */
function rbacUsers(scope: Construct, name: string, engine: RedisEngine, accessString: string): RbacUsers {
  const username = `${name}-writer`;
  const secret = new secretsmanager.Secret(scope, 'CacheSecret', {
    description: 'ddb-cache-sync cache user credentials (RBAC)',
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username }),
      generateStringKey: 'password',
      // Alphanumeric: ElastiCache rejects some punctuation, and the password goes into a URL.
      passwordLength: 64,
      excludePunctuation: true,
    },
  });
  const defaultSecret = new secretsmanager.Secret(scope, 'DefaultUserSecret', {
    description: 'ddb-cache-sync disabled default cache user (never used; required by ElastiCache)',
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
  const defaultUser = new elasticache.CfnUser(scope, 'DefaultCacheUser', {
    userId: `${name}-default`,
    userName: 'default',
    engine,
    accessString: 'off -@all',
    authenticationMode: { Type: 'password', Passwords: [defaultSecret.secretValue.unsafeUnwrap()] },
  });
  const writer = new elasticache.CfnUser(scope, 'WriterCacheUser', {
    userId: username,
    userName: username,
    engine,
    accessString,
    authenticationMode: { Type: 'password', Passwords: [secret.secretValueFromJson('password').unsafeUnwrap()] },
  });
  const userGroup = new elasticache.CfnUserGroup(scope, 'CacheUserGroup', {
    userGroupId: `${name}-users`,
    engine,
    userIds: [defaultUser.ref, writer.ref],
  });
  return { secret, userGroup };
}

function redisVersion(engine: RedisEngine, kind: 'major' | 'full', pinned: string | undefined): string {
  if (pinned !== undefined) return pinned;
  if (engine === 'valkey') return kind === 'major' ? '8' : '8.0';
  return kind === 'major' ? '7' : '7.1';
}

function redisConnection(parts: {
  securityGroup: ec2.ISecurityGroup;
  port: ec2.Port;
  endpoint: string;
  cluster: boolean;
  secret: secretsmanager.ISecret;
  serverlessCache?: elasticache.CfnServerlessCache;
  replicationGroup?: elasticache.CfnReplicationGroup;
}): CacheConnection {
  return {
    protocol: 'redis',
    securityGroup: parts.securityGroup,
    port: parts.port,
    endpoint: parts.endpoint,
    secret: parts.secret,
    environment: {
      CACHE_ENDPOINT: parts.endpoint,
      // Serverless and cluster-mode endpoints speak the cluster protocol; the primary
      // endpoint of a cluster-mode-disabled replication group does not.
      CACHE_CLUSTER: String(parts.cluster),
      CACHE_SECRET_ARN: parts.secret.secretArn,
    },
    serverlessCache: parts.serverlessCache,
    replicationGroup: parts.replicationGroup,
    cacheCluster: undefined,
  };
}

/**
 * Create the cache the target asks for, or describe the existing one.
 *
 * @example
 * ```ts
 * const connection = resolveCacheTarget(this, { kind: 'new-serverless' }, { vpc, subnetIds });
 * ```
 */
export function resolveCacheTarget(scope: Construct, target: CacheTarget, placement: CachePlacement): CacheConnection {
  switch (target.kind) {
    case 'existing-serverless':
      return redisConnection({
        securityGroup: target.securityGroup,
        port: REDIS_PORTS,
        endpoint: hostPort(target.endpoint),
        cluster: true,
        secret: target.secret,
      });
    case 'existing-replication-group':
      return redisConnection({
        securityGroup: target.securityGroup,
        port: portOf(target.endpoint, REDIS_PORTS),
        endpoint: hostPort(target.endpoint),
        cluster: target.cluster ?? false,
        secret: target.secret,
      });
    case 'existing-memcached':
      return memcachedConnection(
        target.securityGroup,
        hostPort(target.configurationEndpoint),
        portOf(target.configurationEndpoint, ec2.Port.tcp(MEMCACHED_PORT)),
        undefined,
      );
    case 'new-serverless':
      return newServerless(scope, target, placement);
    case 'new-replication-group':
      return newReplicationGroup(scope, target, placement);
    case 'new-memcached':
      return newMemcached(scope, target, placement);
  }
}

function newServerless(scope: Construct, target: Extract<CacheTarget, { kind: 'new-serverless' }>, placement: CachePlacement): CacheConnection {
  const engine = target.engine ?? 'valkey';
  const name = elastiCacheName(scope, target.namePrefix);
  const securityGroup = newCacheSecurityGroup(scope, placement.vpc, engine);
  const { secret, userGroup } = rbacUsers(scope, name, engine, target.accessString ?? DEFAULT_ACCESS_STRING);
  const cache = new elasticache.CfnServerlessCache(scope, 'ServerlessCache', {
    serverlessCacheName: `${name}-cache`,
    description: 'ddb-cache-sync cache',
    engine,
    majorEngineVersion: redisVersion(engine, 'major', target.engineVersion),
    // Serverless caches always use TLS; access control is the user group.
    userGroupId: userGroup.ref,
    securityGroupIds: [securityGroup.securityGroupId],
    subnetIds: placement.subnetIds,
    cacheUsageLimits: { dataStorage: { maximum: target.maxDataStorageGb ?? 10, unit: 'GB' } },
  });
  return redisConnection({
    securityGroup,
    port: REDIS_PORTS,
    endpoint: `${cache.attrEndpointAddress}:${cache.attrEndpointPort}`,
    cluster: true,
    secret,
    serverlessCache: cache,
  });
}

function newReplicationGroup(scope: Construct, target: Extract<CacheTarget, { kind: 'new-replication-group' }>, placement: CachePlacement): CacheConnection {
  const engine = target.engine ?? 'valkey';
  const name = elastiCacheName(scope, target.namePrefix);
  const securityGroup = newCacheSecurityGroup(scope, placement.vpc, engine);
  const { secret, userGroup } = rbacUsers(scope, name, engine, target.accessString ?? DEFAULT_ACCESS_STRING);
  const subnetGroup = new elasticache.CfnSubnetGroup(scope, 'CacheSubnetGroup', {
    description: 'ddb-cache-sync cache subnets',
    subnetIds: placement.subnetIds,
  });
  const group = new elasticache.CfnReplicationGroup(scope, 'ReplicationGroup', {
    replicationGroupId: `${name}-cache`,
    replicationGroupDescription: 'ddb-cache-sync cache',
    engine,
    engineVersion: redisVersion(engine, 'full', target.engineVersion),
    cacheNodeType: target.nodeType ?? 'cache.t4g.small',
    // Cluster mode disabled: one shard, a primary and a replica in different AZs.
    numCacheClusters: 2,
    automaticFailoverEnabled: true,
    multiAzEnabled: true,
    port: 6379,
    transitEncryptionEnabled: true,
    transitEncryptionMode: 'required',
    atRestEncryptionEnabled: true,
    userGroupIds: [userGroup.ref],
    cacheSubnetGroupName: subnetGroup.ref,
    securityGroupIds: [securityGroup.securityGroupId],
    autoMinorVersionUpgrade: true,
  });
  return redisConnection({
    securityGroup,
    port: ec2.Port.tcp(6379),
    endpoint: `${group.attrPrimaryEndPointAddress}:${group.attrPrimaryEndPointPort}`,
    cluster: false,
    secret,
    replicationGroup: group,
  });
}

function newMemcached(scope: Construct, target: Extract<CacheTarget, { kind: 'new-memcached' }>, placement: CachePlacement): CacheConnection {
  const nodeCount = target.nodeCount ?? 1;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 40) {
    throw new Error(`CacheSync ${scope.node.path}: cache.nodeCount must be an integer from 1 to 40, got ${nodeCount}`);
  }
  const securityGroup = newCacheSecurityGroup(scope, placement.vpc, 'Memcached');
  const subnetGroup = new elasticache.CfnSubnetGroup(scope, 'CacheSubnetGroup', {
    description: 'ddb-cache-sync Memcached subnets',
    subnetIds: placement.subnetIds,
  });
  const cluster = new elasticache.CfnCacheCluster(scope, 'CacheCluster', {
    engine: 'memcached',
    engineVersion: target.engineVersion ?? '1.6.22',
    cacheNodeType: target.nodeType ?? 'cache.t4g.small',
    numCacheNodes: nodeCount,
    azMode: nodeCount > 1 ? 'cross-az' : 'single-az',
    port: MEMCACHED_PORT,
    // memjs has no TLS; the adapter's `tls` option carries its connections over TLS.
    transitEncryptionEnabled: true,
    cacheSubnetGroupName: subnetGroup.ref,
    vpcSecurityGroupIds: [securityGroup.securityGroupId],
    autoMinorVersionUpgrade: true,
  });
  return memcachedConnection(
    securityGroup,
    `${cluster.attrConfigurationEndpointAddress}:${cluster.attrConfigurationEndpointPort}`,
    ec2.Port.tcp(MEMCACHED_PORT),
    cluster,
  );
}

function memcachedConnection(
  securityGroup: ec2.ISecurityGroup,
  endpoint: string,
  port: ec2.Port,
  cacheCluster: elasticache.CfnCacheCluster | undefined,
): CacheConnection {
  return {
    protocol: 'memcached',
    securityGroup,
    port,
    endpoint,
    secret: undefined,
    environment: { MEMCACHED_CONFIG_ENDPOINT: endpoint, MEMCACHED_TLS: 'true' },
    serverlessCache: undefined,
    replicationGroup: undefined,
    cacheCluster,
  };
}
