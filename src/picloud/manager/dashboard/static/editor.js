// The script editor: CodeMirror 6 (static/vendor/codemirror.min.js, global CM) replaces the
// <textarea data-editor="python"> it finds; the textarea stays the form field, so saving is a
// plain form post and the page still works when scripts are off.
"use strict";

(function () {
  const textarea = document.querySelector("textarea[data-editor=python]");
  if (!textarea || !window.CM) return;

  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const theme = new CM.Compartment();
  const host = document.createElement("div");
  host.className = "editor-host";
  textarea.before(host);
  textarea.hidden = true;

  const label = document.querySelector(`label[for="${textarea.id}"]`);
  const view = new CM.EditorView({
    parent: host,
    state: CM.EditorState.create({
      doc: textarea.value,
      extensions: [
        CM.basicSetup,
        CM.python(),
        CM.lintGutter(),
        CM.keymap.of([
          CM.indentWithTab,
          { key: "Mod-s", preventDefault: true, run: () => { textarea.form.requestSubmit(); return true; } },
        ]),
        theme.of(dark.matches ? CM.oneDark : []),
        CM.EditorView.contentAttributes.of({
          "aria-label": label ? label.textContent.trim() : "Script source",
          "aria-describedby": textarea.getAttribute("aria-describedby") || "",
        }),
        CM.EditorView.updateListener.of((update) => {
          if (update.docChanged) textarea.value = update.state.doc.toString();
        }),
      ],
    }),
  });
  dark.addEventListener("change", () => {
    view.dispatch({ effects: theme.reconfigure(dark.matches ? CM.oneDark : []) });
  });
  if (label) label.addEventListener("click", () => view.focus());

  // A compile error from the last save: mark it at its line and column, and scroll to it.
  const line = Number(textarea.dataset.errorLine);
  if (line >= 1 && line <= view.state.doc.lines) {
    const at = view.state.doc.line(line);
    const column = Math.max(1, Number(textarea.dataset.errorColumn) || 1);
    // Underline from the column to the end of the line; a column past the end (Python points
    // just after the last character) underlines the whole line instead.
    const start = at.from + column - 1;
    const from = start < at.to ? start : at.from;
    view.dispatch(
      CM.setDiagnostics(view.state, [
        { from, to: at.to, severity: "error", message: textarea.dataset.errorMessage || "error" },
      ]),
    );
    view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
  }
})();
