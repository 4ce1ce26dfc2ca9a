/**
 * An in-memory oidc-provider adapter whose storage belongs to one test OP.
 *
 * oidc-provider ships a memory adapter too, but its storage is a module-level singleton shared by
 * every Provider in the process. Ours is an explicit MemoryStore object so that
 *  - two test OPs in the same test file do not see each other's sessions and grants, and
 *  - a replacement Provider built by TestOP.rotateKeys() keeps using the same state.
 */
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** epoch milliseconds; undefined = never expires */
  expiresAt?: number | undefined;
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

export class MemoryStore {
  /** keyed by `${modelName}:${id}` */
  readonly entries = new Map<string, Entry>();
  /** `${modelName}:${grantId}` -> storage keys of that model's artifacts under the grant */
  readonly byGrant = new Map<string, Set<string>>();
  /** Session uid -> storage key */
  readonly byUid = new Map<string, string>();
  /** device flow user code -> storage key */
  readonly byUserCode = new Map<string, string>();

  read(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // hand out copies so that oidc-provider's in-place changes only land via upsert()
    return structuredClone(entry.payload);
  }

  /** Payloads of all live artifacts of one model, e.g. list('Session'). Handy in tests. */
  list(model: string): AdapterPayload[] {
    const out: AdapterPayload[] = [];
    for (const key of this.entries.keys()) {
      if (!key.startsWith(`${model}:`)) continue;
      const payload = this.read(key);
      if (payload) out.push(payload);
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
    this.byGrant.clear();
    this.byUid.clear();
    this.byUserCode.clear();
  }
}

export function memoryAdapter(store: MemoryStore): AdapterConstructor {
  return class MemoryAdapter implements Adapter {
    constructor(private readonly name: string) {}

    private key(id: string): string {
      return `${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const key = this.key(id);
      store.entries.set(key, {
        payload: structuredClone(payload),
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
      // Interactions carry a grantId too, but only tokens are revoked together with their grant.
      if (payload.grantId && GRANTABLE.has(this.name)) {
        const grantKey = this.key(payload.grantId);
        let keys = store.byGrant.get(grantKey);
        if (!keys) store.byGrant.set(grantKey, (keys = new Set()));
        keys.add(key);
      }
      if (this.name === 'Session' && payload.uid) store.byUid.set(payload.uid, key);
      if (payload.userCode) store.byUserCode.set(payload.userCode, key);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return store.read(this.key(id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const key = store.byUid.get(uid);
      return key ? store.read(key) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const key = store.byUserCode.get(userCode);
      return key ? store.read(key) : undefined;
    }

    async consume(id: string): Promise<void> {
      const entry = store.entries.get(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      store.entries.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // called once per token model by oidc-provider; the Grant itself is destroyed separately
      const grantKey = this.key(grantId);
      for (const key of store.byGrant.get(grantKey) ?? []) store.entries.delete(key);
      store.byGrant.delete(grantKey);
    }
  };
}
