// A front end's calls through the client generated from openapi.json (openapi-typescript + openapi-fetch),
// type-checked with `tsc --strict` by tests/contract/test_typescript_client.py. No cast, no `any`, no
// non-null assertion: every type below comes from the document.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type Schemas = components["schemas"];
const api = createClient<paths>({ baseUrl: "https://api.example" });

// Declared response headers (the document says what the API sends).
type CacheStatus = NonNullable<
  paths["/api/v1/intervention-plans/pending-review"]["get"]["responses"][200]["headers"]["X-Cache"]
>;
const hit: CacheStatus = "HIT";

function describeError(code: Schemas["ErrorCode"]): string {
  switch (code) {
    case "rate_limited":
      return "Muitas requisições: tente de novo em instantes";
    case "idempotency_in_progress":
      return "A primeira tentativa ainda está em andamento";
    case "idempotency_key_reused":
    case "validation_error":
      return "Confira os dados";
    default:
      return code;
  }
}

export async function pendingReview(): Promise<string[]> {
  const { data, error, response } = await api.GET("/api/v1/intervention-plans/pending-review", {
    params: { query: { priority: "high", overdue_only: true, limit: 20 } },
  });
  if (error) {
    return [describeError(error.error.code)];
  }
  const cache = response.headers.get("X-Cache") === hit ? "cache" : "banco";
  return data.items.map((plan) => `${plan.title} (${plan.priority}, ${cache}) vence ${plan.next_review_due}`);
}

export async function createPlan(studentId: string, key: string): Promise<Schemas["PlanOut"] | string> {
  // description, priority and status have server defaults: left out.
  const { data, error } = await api.POST("/api/v1/intervention-plans", {
    params: { header: { "Idempotency-Key": key } },
    body: { student_id: studentId, title: "Rotina visual", review_frequency: "weekly" },
  });
  return error ? describeError(error.error.code) : data;
}

export async function unreadBadge(etag: string | null): Promise<{ count: number | null; etag: string | null }> {
  const { data, response } = await api.GET("/api/v1/notifications/unread-count", {
    params: { header: etag ? { "if-none-match": etag } : {} },
  });
  if (response.status === 304 || !data) {
    return { count: null, etag }; // the copy held is current
  }
  return { count: data.unread_count + data.unseen_count, etag: response.headers.get("ETag") };
}

export async function stats(): Promise<number> {
  const { data } = await api.GET("/api/v1/notifications/stats");
  return data ? data.by_type.review_overdue + data.by_priority.urgent : 0;
}

export async function exportCsv(): Promise<string> {
  const { data } = await api.GET("/api/v1/export/pending-review/csv", {
    params: { query: { delimiter: ";" }, header: { "Idempotency-Key": "export-1" } },
  });
  if (data?.status === "pending") {
    return followJob(data.job_id);
  }
  return data?.status === "succeeded" ? data.download_url : "";
}

export async function followJob(jobId: string): Promise<string> {
  const { data } = await api.GET("/api/v1/export/jobs/{job_id}", { params: { path: { job_id: jobId } } });
  if (!data) {
    return "";
  }
  switch (data.status) {
    case "succeeded": {
      const size: number = data.size_bytes;
      return `${data.download_url} (${data.filename}, ${data.row_count} linhas, ${size} bytes)`;
    }
    case "failed":
      return data.error;
    case "pending":
    case "running":
      return `aguardando desde ${data.created_at}`;
  }
}
