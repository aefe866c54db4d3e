/** A key hint on a button or in the shortcut bar, like the rail's "Alt 1". */
export function Kbd({ children }: { children: string }) {
  return (
    <kbd className="kbd" aria-hidden="true">
      {children}
    </kbd>
  );
}
