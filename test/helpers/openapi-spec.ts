import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

interface ResponseObject {
  $ref?: string;
  content?: Record<string, unknown>;
}
interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { responses: Record<string, ResponseObject> };
}

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** docs/openapi.yaml, for checking what the server really answers against what it documents. */
export class OpenApiSpec {
  private readonly spec: Spec;
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });

  constructor(file = join(__dirname, '..', '..', 'docs', 'openapi.yaml')) {
    this.spec = parse(readFileSync(file, 'utf8')) as Spec;
    addFormats(this.ajv);
    this.ajv.addSchema(this.spec, 'openapi');
  }

  /** The problems with this answer, or [] when the spec documents its status and it matches the schema. */
  problems(method: string, path: string, status: number, body: unknown): string[] {
    const operation = this.spec.paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not in the spec`];
    let response = operation.responses[String(status)];
    let at = pointer('paths', path, method.toLowerCase(), 'responses', String(status));
    if (!response) return [`${method} ${path} does not document ${status}`];
    if (response.$ref) {
      const name = response.$ref.split('/').pop() as string;
      response = this.spec.components.responses[name] as ResponseObject;
      at = pointer('components', 'responses', name);
    }
    if (!response.content?.['application/json']) return [`${status} of ${method} ${path} has no JSON schema`];
    const validate = this.ajv.getSchema(`openapi#/${at}/${pointer('content', 'application/json', 'schema')}`);
    if (!validate) return [`no schema at ${at}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
  }
}
