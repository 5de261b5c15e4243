// Every schema a client sends (parameters and request bodies, $refs resolved) is bounded: strings by
// maxLength (or an enum or const), integers by a format and both bounds, arrays by maxItems. The OWASP
// ruleset asks this of every schema; the API's own answers are exempt (.spectral.yaml says why).
const UNBOUNDED = {
  string: (schema) => !("maxLength" in schema || "enum" in schema || "const" in schema) && "string without maxLength",
  integer: (schema) =>
    !("format" in schema && ("minimum" in schema || "exclusiveMinimum" in schema) &&
      ("maximum" in schema || "exclusiveMaximum" in schema)) && "integer without format, minimum and maximum",
  array: (schema) => !("maxItems" in schema) && "array without maxItems",
};
const NESTED = ["items", "additionalProperties", "not"];
const BRANCHES = ["anyOf", "oneOf", "allOf", "prefixItems"];

function walk(schema, path, seen, problems) {
  if (schema === null || typeof schema !== "object" || seen.has(schema)) return;
  seen.add(schema);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const type of types) {
    const problem = UNBOUNDED[type] && UNBOUNDED[type](schema);
    if (problem) problems.push({ message: `Request ${problem}.`, path });
  }
  for (const [name, property] of Object.entries(schema.properties || {})) {
    walk(property, [...path, "properties", name], seen, problems);
  }
  for (const key of NESTED) walk(schema[key], [...path, key], seen, problems);
  for (const key of BRANCHES) {
    (schema[key] || []).forEach((branch, index) => walk(branch, [...path, key, index], seen, problems));
  }
}

export default function boundedRequest(schema, options, context) {
  const problems = [];
  walk(schema, [...context.path], new Set(), problems);
  return problems;
}
