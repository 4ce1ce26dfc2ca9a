export { DPoPKey, DPOP_ALGORITHMS, assertDPoPKeyPair, generateDPoPKeyPair, jwkThumbprint, type DPoPAlgorithm } from './key.js';
export { fetchProtectedResource, RESOURCE_TIMEOUT_SECONDS, type ProtectedResourceInit, type ProtectedResourceToken } from './protected-resource.js';
