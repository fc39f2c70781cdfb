// The pieces of CodeMirror 6 the dashboard's editor uses, exposed as one global: window.CM.
export { basicSetup } from "codemirror";
export { EditorView, keymap } from "@codemirror/view";
export { EditorState, Compartment } from "@codemirror/state";
export { indentWithTab } from "@codemirror/commands";
export { python } from "@codemirror/lang-python";
export { setDiagnostics, lintGutter } from "@codemirror/lint";
export { oneDark } from "@codemirror/theme-one-dark";
