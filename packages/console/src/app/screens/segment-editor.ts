import { autocompletion, closeBrackets, type Completion, type CompletionContext, type CompletionResult, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';

/** What the editor completes from: the server's segmentLanguage. */
export interface Vocabulary {
  attributes: { name: string; type: string; description: string; example: string; values: string[] }[];
  functions: { name: string; description: string; example: string; arguments: { name: string; type: string; role: string; description: string }[] }[];
  calls: { name: string; description: string; example: string; arguments: string[] }[];
  customFields: { key: string; label: string; type: string; options: string[] }[];
}

const KEYWORDS = ['AND', 'OR', 'NOT', 'BETWEEN', 'CONTAINS', 'IS', 'NULL', 'MATCHES', 'TRUE', 'FALSE'];

/** Highlighting of the segment language (docs/segments.md): a stream tokenizer is enough for its flat syntax. */
function segmentLanguage(vocabulary: Vocabulary) {
  const functions = new Set([...vocabulary.functions.map((f) => f.name), ...vocabulary.calls.map((c) => c.name)]);
  return StreamLanguage.define<null>({
    name: 'kokyaku-segment',
    token(stream) {
      if (stream.eatSpace()) return null;
      if (stream.match(/^'(?:[^'\\]|\\.)*'?/)) return 'string';
      if (stream.match(/^\d{4}-\d{2}-\d{2}/)) return 'number';
      if (stream.match(/^[+-]\d+[dwmy]\b/)) return 'number';
      if (stream.match(/^-?\d+(\.\d+)?/)) return 'number';
      if (stream.match(/^(!=|>=|<=|=|>|<)/)) return 'operator';
      const word = stream.match(/^[A-Za-z_][\w.]*/) as RegExpMatchArray | null;
      if (word) {
        const text = word[0];
        if (KEYWORDS.includes(text.toUpperCase())) return 'keyword';
        if (text === 'today') return 'atom';
        if (functions.has(text)) return 'function';
        return 'variableName';
      }
      stream.next();
      return null;
    },
    tokenTable: { function: tags.function(tags.variableName) },
  });
}

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: '#7a1fa2', fontWeight: '600' },
  { tag: tags.string, color: '#0b6b2f' },
  { tag: tags.number, color: '#9c4a00' },
  { tag: tags.atom, color: '#9c4a00' },
  { tag: tags.operator, color: '#444' },
  { tag: tags.function(tags.variableName), color: '#0b4f9c', fontWeight: '600' },
  { tag: tags.variableName, color: '#1a1a1a' },
]);

/** Completion: attributes, functions and keywords; a function's arguments inside its MATCHES ( ); an enum's values after its operator. */
function completer(vocabulary: Vocabulary) {
  const attributes: Completion[] = vocabulary.attributes.map((a) => ({ label: a.name, type: 'variable', detail: a.type, info: `${a.description}\n${a.example}` }));
  const custom: Completion[] = vocabulary.customFields.map((f) => ({ label: `custom.${f.key}`, type: 'variable', detail: f.type, info: f.label }));
  const functions: Completion[] = [
    ...vocabulary.functions.map((f) => ({ label: f.name, type: 'function', detail: 'MATCHES (…)', info: `${f.description}\n${f.example}`, apply: `${f.name} MATCHES (` })),
    ...vocabulary.calls.map((c) => ({ label: c.name, type: 'function', detail: `(${c.arguments.join(' | ')})`, info: `${c.description}\n${c.example}`, apply: `${c.name}(` })),
  ];
  const keywords: Completion[] = [...KEYWORDS, 'today'].map((k) => ({ label: k, type: 'keyword' }));
  return (context: CompletionContext): CompletionResult | null => {
    const word = context.matchBefore(/[\w.]*/);
    if (!word || (word.from === word.to && !context.explicit && !/[(,=]\s*$/.test(context.state.sliceDoc(Math.max(0, word.from - 3), word.from)))) return null;
    const before = context.state.sliceDoc(0, word.from);
    // Inside `fn MATCHES ( ...`: the function's arguments.
    const open = /(\w+)\s+(?:NOT\s+)?MATCHES\s*\(([^()]*)$/i.exec(before);
    if (open) {
      const fn = vocabulary.functions.find((f) => f.name === open[1]);
      if (fn) return { from: word.from, options: fn.arguments.map((a) => ({ label: a.name, type: 'property', detail: `${a.type} · ${a.role}`, info: a.description })) };
    }
    // After `enum_attribute =`: its values.
    const compared = /([\w.]+)\s*(?:=|!=)\s*$/.exec(before);
    if (compared) {
      const attribute = vocabulary.attributes.find((a) => a.name === compared[1]);
      if (attribute?.values.length) return { from: word.from, options: attribute.values.map((v) => ({ label: v, type: 'enum' })) };
      const field = vocabulary.customFields.find((f) => `custom.${f.key}` === compared[1]);
      if (field?.options.length) return { from: word.from, options: field.options.map((v) => ({ label: `'${v}'`, type: 'enum' })) };
    }
    return { from: word.from, options: [...attributes, ...custom, ...functions, ...keywords], validFor: /^[\w.]*$/ };
  };
}

export interface SegmentEditor {
  view: EditorView;
  /** Marks an error at a 0-based offset of the text (to the end of the word there), or clears it. */
  showError(error: { offset: number; message: string } | null): void;
  destroy(): void;
}

export function createSegmentEditor(options: {
  parent: HTMLElement;
  doc: string;
  vocabulary: Vocabulary;
  label: string;
  describedBy: string;
  placeholder: string;
  readOnly: boolean;
  onChange: (text: string) => void;
}): SegmentEditor {
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        history(),
        closeBrackets(),
        keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
        segmentLanguage(options.vocabulary),
        syntaxHighlighting(highlight),
        autocompletion({ override: [completer(options.vocabulary)], activateOnTyping: true }),
        lintGutter(),
        placeholder(options.placeholder),
        EditorView.lineWrapping,
        EditorState.readOnly.of(options.readOnly),
        EditorView.contentAttributes.of({ 'aria-label': options.label, 'aria-describedby': options.describedBy, 'aria-multiline': 'true' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    showError(error) {
      const diagnostics: Diagnostic[] = [];
      if (error) {
        const length = view.state.doc.length;
        const from = Math.min(Math.max(0, error.offset), length);
        const rest = view.state.sliceDoc(from);
        const to = Math.min(length, from + Math.max(1, /^[\w.']+/.exec(rest)?.[0].length ?? 1));
        diagnostics.push({ from, to: Math.max(from, to), severity: 'error', message: error.message });
      }
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    destroy: () => view.destroy(),
  };
}
