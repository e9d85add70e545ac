/**
 * Message text as React text nodes (never HTML): links open outside, mentions stand out. Bidi
 * controls arrive as markers (splitText); each link is its own left-to-right isolate, as an address
 * bar shows it, so that right-to-left words around or inside it cannot reorder its pieces.
 */
import { splitText } from '../state/timeline.js';

export function MessageText({ text, me }: { text: string; me: string }) {
  return (
    <>
      {splitText(text, me).map((part, i) =>
        part.kind === 'link' ? (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer" dir="ltr">
            {part.text}
          </a>
        ) : part.kind === 'mention' ? (
          <span key={i} className={part.me ? 'mention mention--me' : 'mention'}>
            {part.text}
          </span>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  );
}
