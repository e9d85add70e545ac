/**
 * Checks a person would make looking at a screen, done by the page itself: text cut off
 * without an ellipsis, and text whose contrast with its background is below WCAG AA.
 */
import type { Page } from 'playwright-core';

export interface VisualProblem {
  kind: 'clipped' | 'contrast' | 'overflow';
  text: string;
  detail: string;
}

/** Runs in the page: kept self-contained (no closures over Node values). */
function inspect(): VisualProblem[] {
  type RGBA = [number, number, number, number];
  const problems: VisualProblem[] = [];
  const parse = (c: string): RGBA => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1]!.split(/[,\s/]+/).filter(Boolean).map(Number);
    return [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 1];
  };
  const over = (top: RGBA, under: RGBA): RGBA => {
    const a = top[3];
    return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
  };
  const lum = (c: RGBA) => {
    const f = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el: Element): RGBA | null => {
    const layers: RGBA[] = [];
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== 'none') return null; // gradients: not judged here
      const c = parse(s.backgroundColor);
      if (c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    let result: RGBA = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const opacity = (el: Element) => {
    let o = 1;
    for (let e: Element | null = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const short = (t: string) => t.replace(/\s+/g, ' ').trim().slice(0, 60);

  const modal = document.querySelector('dialog[open]');
  const scope: ParentNode = modal ?? document;
  const all = [...scope.querySelectorAll<HTMLElement>('body *, dialog *')];
  for (const el of all) {
    if (modal && !modal.contains(el)) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim()).map((n) => n.textContent!).join(' ');
    if (!own.trim()) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0 || rect.bottom < 0 || rect.top > innerHeight) continue;
    const s = getComputedStyle(el);
    if (s.visibility !== 'visible' || el.closest('[aria-hidden="true"], .sr-only, :disabled, [disabled]')) continue;

    if (el.scrollWidth > el.clientWidth + 1 && s.textOverflow !== 'ellipsis' && s.overflowX !== 'visible') {
      problems.push({ kind: 'clipped', text: short(own), detail: `${el.tagName.toLowerCase()}.${el.className} scrollWidth ${el.scrollWidth} > ${el.clientWidth}` });
    }
    const bg = background(el);
    if (!bg) continue;
    const fg = parse(s.color);
    fg[3] *= opacity(el);
    const text = over(fg, bg);
    const [a, b] = [lum(text), lum(bg)].sort((x, y) => y - x) as [number, number];
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    const need = large ? 3 : 4.5;
    if (ratio < need) {
      problems.push({ kind: 'contrast', text: short(own), detail: `${ratio.toFixed(2)} < ${need} (${s.color} on rgb(${bg.slice(0, 3).map(Math.round).join(',')}))` });
    }
  }
  if (document.documentElement.scrollWidth > innerWidth + 1) {
    problems.push({ kind: 'overflow', text: '', detail: `page is ${document.documentElement.scrollWidth}px wide in a ${innerWidth}px window` });
  }
  return problems;
}

export function visualProblems(page: Page): Promise<VisualProblem[]> {
  return page.evaluate(inspect);
}
