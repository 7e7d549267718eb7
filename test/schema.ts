// JSON Schema validation of what nvct writes, against the schemas in ../shared/schemas, with ajv:
// the CDI schema is draft-07 (ajv's default class), the OCI runtime spec's are draft-04
// (ajv-draft-04). Every file of a schema's folder is added under its file:// URL, so the
// relative `$ref`s between them ("defs.json#/definitions/...", "config-linux.json#/linux")
// resolve as they do for the schemas' authors. Test-only: nothing in src/ uses ajv.
import Ajv, { type AnySchema, type ErrorObject, type ValidateFunction } from "ajv";
import Ajv04 from "ajv-draft-04";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

export const SCHEMAS = join(import.meta.dir, "../../shared/schemas");

type Validator = InstanceType<typeof Ajv> | InstanceType<typeof Ajv04>;

/** One validator per schema folder, with every schema file of that folder added by its URL. */
const validators = new Map<string, Validator>();

const DRAFT_04 = "http://json-schema.org/draft-04/schema#";

function validatorFor(dir: string): Validator {
  let ajv = validators.get(dir);
  if (ajv) return ajv;
  const files = readdirSync(dir).filter((n) => n.endsWith(".json")).sort();
  const docs = files.map((n) => [n, JSON.parse(readFileSync(join(dir, n), "utf8"))] as const);
  // A folder's draft is the one its top-level schemas name (the defs files name none).
  const drafts = new Set(docs.map(([, d]) => d.$schema).filter(Boolean));
  if (drafts.size !== 1) throw new Error(`${dir}: schemas of several drafts: ${[...drafts].join(", ")}`);
  // strict: the schemas are upstream's, written for any validator: unknown keywords are not ours to refuse.
  const opts = { allErrors: true, strict: false };
  ajv = drafts.has(DRAFT_04) ? new Ajv04(opts) : new Ajv(opts);
  for (const [n, d] of docs) {
    const { $schema: _, ...schema } = d; // the folder's class already is that draft
    ajv.addSchema(schema as AnySchema, pathToFileURL(join(dir, n)).href);
  }
  validators.set(dir, ajv);
  return ajv;
}

/** The compiled validator of a schema file (e.g. `cdi/schema.json`); throws when it does not compile. */
export function compiled(schema: string): ValidateFunction {
  const file = join(SCHEMAS, schema);
  const fn = validatorFor(dirname(file)).getSchema(pathToFileURL(file).href);
  if (!fn) throw new Error(`no schema ${schema}`);
  return fn;
}

const describeError = (e: ErrorObject) => `$${e.instancePath.replaceAll("/", ".")}: ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""}`;

/** Errors of `doc` against a schema file (e.g. `cdi/schema.json`, `oci/config-schema.json`); none: []. */
export function validate(doc: unknown, schema: string): string[] {
  const fn = compiled(schema);
  return fn(doc) ? [] : (fn.errors ?? []).map(describeError);
}
