// What a browser app on another origin does with the API, with fetch alone: each step
// returns what the page could see of the answer (status, the exposed headers, the body).
"use strict";

async function seen(response) {
  const text = await response.text();
  return {
    status: response.status,
    etag: response.headers.get("ETag"),
    location: response.headers.get("Location"),
    replayed: response.headers.get("Idempotent-Replayed"),
    requestId: response.headers.get("X-Request-ID"),
    body: text ? JSON.parse(text) : null,
  };
}

// Sign up, sign in with the OAuth2 password form, create an item with an Idempotency-Key
// (twice: the retry is replayed), list it, read it and read it again with its ETag.
async function signUpAndUse(api, name) {
  const account = { email: `${name}@example.com`, username: name, password: `${name} has a long passphrase` };
  const signedUp = await seen(await fetch(`${api}/users/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(account),
  }));
  const signedIn = await seen(await fetch(`${api}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({ username: account.username, password: account.password }),
  }));
  const bearer = { Authorization: `Bearer ${signedIn.body.access_token}` };
  const create = () => fetch(`${api}/items/`, {
    method: "POST",
    headers: { ...bearer, "Content-Type": "application/json", "Idempotency-Key": `${name}-lamp-1` },
    body: JSON.stringify({ name: "Lamp", price: 1999, attributes: { color: "red" } }),
  });
  const created = await seen(await create());
  const retried = await seen(await create());
  const listed = await seen(await fetch(`${api}/items/?attr=color:red`));
  const itemUrl = new URL(created.location, api).href;  // Location is relative to the API
  const read = await seen(await fetch(itemUrl));
  const reread = await seen(await fetch(itemUrl, { headers: { "If-None-Match": read.etag }, cache: "no-store" }));
  return { signedUp, signedIn, created, retried, listed, read, reread, token: signedIn.body.access_token };
}

// What a page on an origin the API does not list tries: each call's outcome, or the error
// fetch failed with.
async function tryFromElsewhere(api, token) {
  const attempt = async (url, init) => {
    try {
      return await seen(await fetch(url, init));
    } catch (error) {
      return { failed: error.name };
    }
  };
  return {
    signUp: await attempt(`${api}/users/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "eve@example.com", username: "eve", password: "eve has a long passphrase" }),
    }),
    create: await attempt(`${api}/items/`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Planted", price: 1 }),
    }),
    read: await attempt(`${api}/items/`, {}),
  };
}
