// The flows a TypeScript client writes first, against the types openapi-typescript generates
// from the service's own document (./api, made by tests/test_generated_typescript_client.py)
// and openapi-fetch. tsc fails when the document says less or other than these flows need (a
// header it does not declare, a field it types wrongly, a page that takes URL parsing to
// follow); then node runs it against the service, which must answer as the types say.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type Item = components["schemas"]["ItemPublic"];
type Problem = components["schemas"]["Problem"];

// Compile-time checks of the document itself: a request header typed `string | null` makes
// generated clients send the text "null".
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type HeadersOf<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  parameters: { header?: infer Header };
}
  ? NonNullable<Header>
  : never;
export const ifMatchIsAString: Equals<HeadersOf<"/items/{item_id}", "patch">, { "If-Match"?: string }> = true;
export const idempotencyKeyIsAString: Equals<HeadersOf<"/items/", "post">, { "Idempotency-Key"?: string }> = true;

function fail(what: string, problem: Problem | undefined): never {
  throw new Error(`${what}: ${problem?.status} ${problem?.detail ?? ""}`);
}

export async function flow(baseUrl: string): Promise<Record<string, unknown>> {
  const anyone = createClient<paths>({ baseUrl });
  const account = { email: "ann@example.com", username: "ann", password: "ann has a long passphrase" };

  const signedUp = await anyone.POST("/users/", { body: account });
  if (signedUp.error) fail("sign up", signedUp.error);
  const userId: number = signedUp.data.id;

  // The document says the form is urlencoded, but openapi-fetch sends JSON's media type
  // unless told otherwise: the form would be refused (422).
  const signedIn = await anyone.POST("/auth/token", {
    body: { username: account.username, password: account.password },
    bodySerializer: (form) => new URLSearchParams({ username: form.username, password: form.password }),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  // A refused sign-in is OAuth2's error (RFC 6749 §5.2) or, throttled, a problem document.
  if (signedIn.error) {
    const refused = signedIn.error;
    throw new Error(`sign in: ${"error" in refused ? refused.error : refused.status}`);
  }
  const ann = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${signedIn.data.access_token}` } });

  // Items with attributes, each created once whatever the retries.
  let last: Item | undefined;
  for (let n = 0; n < 8; n++) {
    const created = await ann.POST("/items/", {
      params: { header: { "Idempotency-Key": `lamp-${n}` } },
      body: { name: `Lamp ${n}`, price: 1000 + n, attributes: { color: n % 4 ? "red" : "blue", size: n } },
    });
    if (created.error) fail("create", created.error);
    last = created.data;
  }
  if (last === undefined || last.owner_id !== userId) throw new Error("not created");

  // Filtered, followed page by page with the bare cursor: no URL to parse.
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ann.GET("/items/", { params: { query: { attr: ["color:red"], limit: 2, cursor } } });
    if (page.error) fail("list", page.error);
    names.push(...page.data.data.map((item) => item.name));
    cursor = page.data.cursor ?? undefined;
  } while (cursor !== undefined);

  // Read, then read again with the ETag: a 304 is "unchanged", not an error.
  const path = { item_id: last.id };
  const read = await ann.GET("/items/{item_id}", { params: { path } });
  if (read.error) fail("read", read.error);
  const etag = read.response.headers.get("ETag") ?? "";
  const again = await ann.GET("/items/{item_id}", { params: { path, header: { "If-None-Match": etag } } });
  if (again.response.status !== 304) throw new Error(`expected 304, got ${again.response.status}`);

  // Change it at the version read; the same version again is stale (412).
  const changed = await ann.PATCH("/items/{item_id}", { params: { path, header: { "If-Match": etag } }, body: { price: 1 } });
  if (changed.error) fail("update", changed.error);
  const newPrice: number = changed.data.price;
  const stale = await ann.PATCH("/items/{item_id}", { params: { path, header: { "If-Match": etag } }, body: { price: 2 } });
  if (stale.response.status !== 412 || stale.error === undefined) throw new Error("a stale If-Match was taken");
  const staleDetail: string = stale.error.detail ?? "";

  // A post with tags, found by search with its highlighted snippet.
  const written = await ann.POST("/posts/", {
    body: { title: "Brass lamps", content: "A lamp of brass lights the hall.", tags: ["lamps", "brass"] },
  });
  if (written.error) fail("post", written.error);
  const tags: string[] = written.data.tags;
  const found = await anyone.GET("/posts/", { params: { query: { q: "lamp", highlight: true } } });
  if (found.error) fail("search", found.error);
  const snippets: (string | null | undefined)[] = found.data.data.map((post) => post.snippet);

  const deleted = await ann.DELETE("/items/{item_id}", { params: { path } });
  if (deleted.error) fail("delete", deleted.error);
  const gone = await ann.GET("/items/{item_id}", { params: { path } });
  return { names, notModified: again.response.status, newPrice, staleDetail, tags, snippets, gone: gone.response.status };
}
