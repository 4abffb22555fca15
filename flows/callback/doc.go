// Package callback makes kefu's callbacks (issue 13): the customers who
// left a number while they waited (the queue's callback offer), or while
// the service was down (CS-SYSTEM-DOWN), are called back by kefu itself,
// through a configured trunk, by an agent of their queue.
//
// # Place in line
//
// A callback keeps the place of the caller who left it: it joins its
// queue with the time and priority the caller joined with (package
// flows/queue orders callers by priority, then join time). The board of
// agents (flows/agents) offers it like any caller, so a callback is never
// served ahead of a caller who joined earlier, and only ever to an agent
// who is free: the board offers one caller to one free agent at a time.
//
// A callback is in its queue while its trunk is up and has a line for
// it: the callbacks waiting in queues and those on the phone never exceed
// the trunk's MaxCalls, so an agent who takes a callback is never left
// without a line to call the customer on. It waits there whether or not
// an agent serves the queue at the moment, so that an agent who signs in
// or becomes ready is offered it at its place at once (the board
// distributes in the same step). The others wait in the scheduler, in
// serve order per queue; when something changes (a callback done, a
// trunk, a reload: Poke), the first of them in serve order across queues
// whose trunk has a line goes, those of queues an agent serves first. A
// callback waiting in its queue when it may no longer be made (Settings
// says no: the service went down or closed; its trunk went down) is
// taken out of it again and waits, open, until it may.
//
// # An attempt
//
// The offered agents' phones ring (Phone.Ring); the one who answers
// hears 「回电客户,尾号」 and the last four digits of the customer's number
// (PromptWhisper), then the ringing tone while the customer is called
// through the trunk (Agent.Dial). When the customer answers they hear
// 「您好,这里是{company},您之前预约了回电,现在为您接通」 (PromptGreet) and
// the two are put through (Customer.Bridge) until one hangs up. The
// agent hears PromptUnreached when the customer cannot be reached.
//
// With Settings.AMD set, kefu first listens to the customer's side at the
// answer (Customer.Listen, package media/amd) while the agent goes on
// hearing the ringing tone: a person (a short greeting, then a pause;
// silence; a key) goes on to the greeting; an answering machine (a long
// greeting, a beep) is hung up on without a word, the agent hears
// PromptMachine, and the attempt counts with result machine. Follow-up
// calls are screened the same way. An agent whose attempt ended without a
// conversation is free at once: its wrap-up ends as it starts.
//
// # Attempts and outcomes
//
// Every attempt is written in the book (records.AttemptBook) when it
// starts and when it ends. No answer, busy, declined, failed, an answering
// machine, and a customer who hangs up at once (within ShortCall of being put through,
// or during the greeting) count: the callback is tried again after the
// queue's Retry, and closed as OutcomeNoAnswer after its last attempt. An
// agent who hangs up before the customer answers, or a trunk that takes
// no call, do not count: the callback is tried again after Pause. A
// customer put through closes it as OutcomeDone. Ops may cancel a
// callback (Cancel: out of its queue; a call in progress goes on) or
// re-queue a closed one for a new round of attempts (Requeue).
//
// # Follow-ups
//
// FollowUps makes the follow-up calls of resolved complaints
// (CS-FOLLOWUP) straight to the customer: the news, the survey question,
// the key stored. With FollowUpSettings.Queue set, a customer who answers
// with one of its AgentKeys (by default 3, not satisfied) is put through
// to an agent of the queue (handoff.go): they wait at their place among
// its callers with the hold music, the agent is rung like a callback's
// and hears PromptFollowUpWhisper, then the two talk (Line.Put).
//
// # Durability
//
// The book is the truth: Run loads the open callbacks from it at start.
// An attempt that kefu's stop cut off (a kill, a crash, the end of Run)
// is marked interrupted at the next start and does not count; the
// callback is made again.
//
// # Time and cost
//
// The scheduler reads the clock with time.Now and waits with timers, so
// its tests run in synctest bubbles. Callbacks waiting for their next
// attempt sit in a heap on their time (one timer for the first); those
// that may go now sit in one heap per queue. Looking for what may go
// costs O(queues) per change of the board, whatever the number of
// callbacks pending; a callback moves between heaps in O(log n).
package callback
