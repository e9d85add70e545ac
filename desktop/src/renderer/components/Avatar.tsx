import { colorSlot, initials } from '../state/timeline.js';

export function Avatar({ name, size = 'md', online }: { name: string; size?: 'sm' | 'md' | 'lg'; online?: boolean }) {
  return (
    <span className={`avatar avatar--${size} avatar--c${colorSlot(name)}`} aria-hidden="true">
      {initials(name)}
      {online !== undefined && <span className={`presence ${online ? 'presence--on' : 'presence--off'}`} />}
    </span>
  );
}
