// Package agents is kefu's board of agents (issue 12): who the agents
// are, their states, and which waiting caller is offered to which agent.
// It is pure logic on top of package flows/queue: no sockets, no SIP, no
// media; the SIP side rings the agents and reports back, and time is an
// injected clock plus time.AfterFunc, so tests run in synctest bubbles.
//
// # States
//
// An agent is Offline until their phone registers (SignIn; an agent with a
// fixed Contact reached through the PBX starts Available), then
// Available. An offer makes them Ringing; answering, OnCall; the end of
// the call, WrapUp for the queue's wrap-up time, then Available again.
// Paused (with a reason) takes no calls: *2 or the ops API, or the board
// itself after MaxMissed offers missed in a row ("no answer"). Ready (*1)
// makes a paused or signed-out agent with a contact Available, or ends a
// wrap-up early. SignOut (*0) and Unregister (the registration removed or
// expired) sign out; a registration refresh keeps the state, so an agent
// who signed out or paused from their phone stays so. A pause or sign-out
// asked for while ringing or on a call takes effect when that ends.
//
// # Distribution
//
// Whenever something changes — a caller starts waiting (Wait) or leaves,
// an agent becomes free, signs in, a reload — the board makes every offer
// it can, one at a time: among the callers it may offer (waiting, with no
// offer out), the one served first — highest priority, then longest
// waiting, across all queues (queue.Ticket.Before) — for whose queue an
// agent is free goes to that queue's best level with a free agent
// (level 2 only when no level-1 agent of the queue is free), and within
// it to the agent the queue's Strategy picks: longest_idle, round_robin,
// fewest_calls, or every free agent of the level at once (ring_all). An
// agent is offered one caller at a time, and a caller to one set of agents
// at a time. A queue that yields (the nuisance queue, CS-NUISANCE) is
// served only by free agents none of whose normal queues has a customer
// waiting, offered or not, and only after every offer to customers.
//
// A missed offer (no answer, busy, declined, unreachable) goes on to the
// next agent by the strategy, preferring the agents of that level not yet
// offered this caller, and never straight back to the one who just missed
// unless nobody else is free.
//
// Levels are strict: a caller rings its level-1 agents in turn as long as
// one of them is free, even if each has missed it once, until MaxMissed
// pauses them; that is what levels are for. The greedy order can leave a
// caller waiting while an agent who could take it is free (the agent
// serving two queues took the earlier caller of the queue another free
// agent serves too); ops who care put the narrower agent on a lower level.
//
// # Offers
//
// The caller's goroutine receives offers on the channel Wait returns (a
// buffer of one: the board never blocks on a slow receiver), rings the
// offered agents for RingTimeout, and ends the offer for each agent:
// Answered (the caller leaves the queue Answered; exactly one of the
// answer and a simultaneous hang-up wins), Missed, or Released (not
// picked: another agent answered, or the caller hung up). Ended reports
// the end of the bridged call. An offer not yet received when the caller
// leaves is withdrawn by the board; an offer nobody ends within its ring
// timeout and a minute more is ended by the board (a logged safety net).
//
// # Concurrency
//
// One mutex guards the board. Lock order: the Board's mutex, then the
// queue Manager's; the Manager never calls the board under its own lock
// (it calls the OnLeave hook and Agents outside it), and the board calls
// Ticket.Leave only with its lock released.
//
// # Cost
//
// A distribution decision reads the head of each queue agents work in
// under one lock of the Manager, skipping the callers with an offer out,
// and scans each queue's agents: O(queues × agents per queue + callers
// offered), independent of the number of callers waiting.
package agents
