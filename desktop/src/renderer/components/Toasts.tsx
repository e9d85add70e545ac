/** Short messages in a corner (polite live region); each can carry one action. */
import { useEffect, useSyncExternalStore } from 'react';
import { useI18n } from '../i18n/index.js';
import { AlertIcon, CheckIcon, CloseIcon, MessageIcon } from './Icons.js';

export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
  action?: { label: string; run: () => void };
}

export const TOAST_MS = 6000;
const MAX_TOASTS = 4;

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function changed(next: Toast[]): void {
  toasts = next;
  for (const fn of listeners) fn();
}

export function toast(kind: ToastKind, text: string, action?: Toast['action']): void {
  changed([...toasts, { id: nextId++, kind, text, action }].slice(-MAX_TOASTS));
}

export function dismissToast(id: number): void {
  changed(toasts.filter((t) => t.id !== id));
}

export function clearToasts(): void {
  changed([]);
}

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function ToastItem({ item }: { item: Toast }) {
  const { t } = useI18n();
  useEffect(() => {
    const timer = setTimeout(() => dismissToast(item.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [item.id]);
  const Icon = item.kind === 'error' ? AlertIcon : item.kind === 'success' ? CheckIcon : MessageIcon;
  return (
    <div className={`toast toast--${item.kind}`} role={item.kind === 'error' ? 'alert' : 'status'}>
      <Icon className="toast-icon" />
      <span className="toast-text">{item.text}</span>
      {item.action && (
        <button
          type="button"
          className="btn btn--ghost btn--sm"
          onClick={() => {
            item.action!.run();
            dismissToast(item.id);
          }}
        >
          {item.action.label}
        </button>
      )}
      <button type="button" className="icon-btn icon-btn--sm" aria-label={t('toast.dismiss')} onClick={() => dismissToast(item.id)}>
        <CloseIcon size={14} />
      </button>
    </div>
  );
}

export function ToastHost() {
  const list = useSyncExternalStore(subscribe, () => toasts);
  return (
    <div className="toasts" aria-live="polite">
      {list.map((item) => (
        <ToastItem key={item.id} item={item} />
      ))}
    </div>
  );
}
