// A page of the tickets service, typed by the service's own contract: the
// JSON routes' bodies and each event of a ticket's stream come from
// `tickets-api.d.ts`, which openapi-typescript generates from the OpenAPI
// document the Rust code serves (the test makes it; it is not committed).
// A type changed on the Rust side fails this compile.
import type { components, paths } from "./tickets-api";

type Schemas = components["schemas"];
type Ticket = Schemas["Ticket"];
type TicketEvent = Schemas["TicketEvent"];

type NewTicket =
  paths["/tickets"]["post"]["requestBody"]["content"]["application/json"];

/** Opens a ticket. */
export async function open(base: string, ticket: NewTicket): Promise<Ticket> {
  const response = await fetch(`${base}/tickets`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ticket),
  });
  return (await response.json()) as Ticket;
}

/** A line for the page, for each kind of event: every event is handled. */
export function line(event: TicketEvent): string {
  switch (event.event) {
    case "connected":
      return `#${event.data.id}: ${event.data.subject}`;
    case "comment":
      return `comment ${event.data.id}: ${event.data.body}`;
  }
}

/** Follows a ticket's events, as the union of their types. */
export function follow(
  base: string,
  id: number,
  on: (event: TicketEvent) => void,
): EventSource {
  const source = new EventSource(`${base}/tickets/${id}/events`, {
    withCredentials: true,
  });
  const names: TicketEvent["event"][] = ["connected", "comment"];
  for (const name of names) {
    source.addEventListener(name, (message) => {
      const data: unknown = JSON.parse((message as MessageEvent<string>).data);
      on({ event: name, data, id: (message as MessageEvent).lastEventId } as TicketEvent);
    });
  }
  return source;
}
