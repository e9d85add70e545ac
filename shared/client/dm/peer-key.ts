/**
 * Usernames are unique regardless of case (the authority compares them lowercased), so every
 * per-friend map and every stored row is keyed by this one spelling. The display spelling
 * stays the authority's.
 */
export function peerKey(username: string): string {
  return username.toLowerCase();
}
