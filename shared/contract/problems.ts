import type { core } from 'zod';

/** Renders a JSON path the way users write it: `[1].streamMessage.targetRestApiHeaders[0].key`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      return index === 0 ? String(part) : `.${String(part)}`;
    })
    .join('');
}

export function problem(path: ReadonlyArray<PropertyKey>, message: string): string {
  const where = jsonPath(path);
  return where ? `${where}: ${message}` : message;
}

/** One line per zod issue, with "required" for missing fields instead of zod's type message. */
export function describeIssues(
  issues: ReadonlyArray<core.$ZodIssue>,
  prefix: ReadonlyArray<PropertyKey> = [],
) {
  return issues.map((issue) => {
    const missing = issue.code === 'invalid_type' && / received undefined$/.test(issue.message);
    return problem([...prefix, ...issue.path], missing ? 'required' : issue.message);
  });
}
