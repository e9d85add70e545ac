/**
 * A name someone else chose (a room name) as shown: its bidi controls as markers, and isolated
 * (`<bdi>`), so that right-to-left letters in it cannot reorder the words around it.
 */
import { neutraliseBidi } from '../../../../shared/display-text.js';

export function UserText({ text }: { text: string }) {
  return <bdi>{neutraliseBidi(text)}</bdi>;
}
