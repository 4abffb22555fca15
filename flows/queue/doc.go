// Package queue holds kefu's own call queues (CS-HOLD-*, CS-SLA,
// CS-NUISANCE) as pure logic: no sockets, no media, no wall clock. Every
// method that needs the time takes a now argument, so a flow runs it in
// virtual time exactly as in production.
//
// # Model
//
// A Manager holds named queues, built once from []Config. A call joins a
// queue with a priority and gets a Ticket. Callers are served highest
// priority first and, within a priority, in the order they joined (FIFO);
// two who joined at the same instant are in the order of their call ids.
// A ticket's Position is 1-based among the callers of its own queue that
// would be served before it, and it changes as callers ahead leave or a
// caller of higher priority joins; Changed signals each such change, so a
// hold announcement can read out the new position.
//
// A caller leaves the queue exactly once, with an Outcome:
//
//   - Answered: the next step took the call (a transfer, or an agent
//     through Manager.Next). Its wait enters the estimate.
//   - Abandoned: the caller hung up while waiting.
//   - TimedOut: the queue's MaxWait passed and the flow moved on (a
//     callback offer, or routing to another queue).
//
// Leaving again is harmless: the first outcome wins, and Leave reports
// it, so a caller hanging up at the moment an agent takes the call is
// counted once.
//
// A callback (issue 13) keeps the place of the caller who left it: it
// joins with the time that caller joined (Join with a past time), so it
// is served behind everyone who joined earlier and ahead of everyone who
// joined later. Withdrawn takes a ticket out unserved and uncounted (a
// callback cancelled, or put off until the trunk is back).
//
// # Estimated wait
//
// Each answered caller leaves behind its wait w and the position p it had
// when it joined. Over the last Window answered callers of a queue,
//
//	per-place time s = (w₁ + … + wₙ) / (p₁ + … + pₙ)
//
// is how long one place in line has taken to clear, and a caller now at
// position P has about P × s left (Ticket.EstimatedWait). A caller joining
// now behind everyone is quoted (Waiting+1) × s (Figures.EstimatedWait).
// Before any caller has been answered, s is Config.InitialEstimate. When
// callers mostly joined an empty queue, s is simply the mean recent wait.
// Abandoned and timed-out waits do not enter s: they only say that the
// caller would have waited at least that long. SpokenMinutes turns an
// estimate into whole minutes for speech, rounding up.
//
// Several nodes of one hotline share the samples: each answered caller's
// (Ticket.Sample) goes to every node, which puts the recent ones back
// into its queue with Manager.SetRecent, so a caller at position P hears
// the same estimate whichever node holds its call.
//
// # The nuisance queue
//
// A queue with Yields set (the separate queue of CS-NUISANCE) is a lower
// class: Manager.Next serves it only when none of the listed normal queues
// has a caller, however long its own callers have waited, so a nuisance
// caller never takes the place of a customer. Positions and estimates of
// such a queue count only its own callers.
//
// # Reload
//
// Manager.Reconfigure applies a reloaded configuration: the queues that
// stay keep their callers, tickets and figures, new queues start empty,
// and removed queues drain (their callers stay until they leave; nobody
// new joins), so a reload never drops a waiting caller from the figures.
//
// # Agents
//
// A dispatcher of agents (package flows/agents) reads the queues through
// Manager.Heads, the waiting count and first offerable caller of several
// queues at one moment, compares callers of different queues with
// Ticket.Before, and learns through Manager.OnLeave that a caller left. It
// holds its own lock while it calls the Manager, never the other way
// round: the Manager calls OnLeave and Agents only outside its lock.
//
// # Figures
//
// Manager.Figures reports, per queue, the callers waiting, the longest
// current wait, and the answered, abandoned and timed-out callers with
// their waits (count, total, mean, max and cumulative buckets, as a
// Prometheus histogram wants them), with the moving-average wait and the
// estimate for a new caller. The values marshal to JSON with durations in
// seconds.
//
// # Concurrency and cost
//
// One mutex in the Manager guards all queues: every call goroutine and
// every agent may use it at once, and Next sees all queues consistently.
// Within a queue the callers sit in one FIFO slice per distinct priority,
// so with n callers and k distinct priorities, Join is O(k) plus an
// amortised append, Position is O(k + log n), and Leave is O(k + log n)
// plus a copy of the pointers behind the leaver (a memmove; none for the
// head of the line). Changed costs nothing until someone watches a ticket;
// a join or leave then checks only the w watched tickets of its queue,
// O(w), and fires those it moved.
package queue
