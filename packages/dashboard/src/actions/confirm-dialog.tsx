import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

interface Props {
  title: string;
  children: ComponentChildren;
  /** The button that does it, e.g. "Delete dash-bot". */
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * A modal question before something that cannot be undone. The native
 * `<dialog>` opened with showModal(): the rest of the page is inert, the
 * focus starts on Cancel (the safe answer), Escape cancels, and the focus
 * goes back to what opened it on close.
 */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    // Chromium does not give the focus back when the dialog leaves with its component: done here.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    d.showModal();
    cancel.current?.focus();
    return () => {
      d.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={dialog}
      class="confirm"
      aria-labelledby={titleId}
      onCancel={(e) => {
        // Escape: the dialog closes because the component goes, not by itself behind Preact's back.
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
      <div class="dialog-buttons">
        <button type="button" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
