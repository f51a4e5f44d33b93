package devserver

// The sample corpus: people, topics and text the generator combines into
// messages. Every address is under a reserved example domain (RFC 2606), and
// the one remote image points at example.com, so nothing here can reach a
// real mailbox or host.

// person is a correspondent; name may hold any Unicode and is encoded as an
// RFC 2047 word when it is not ASCII.
type person struct {
	name, addr string
}

// correspondents write to the demo user.
var correspondents = []person{
	{"Alice Martin", "alice@example.com"},
	{"Bob Okafor", "bob@example.org"},
	{"Carla Rossi", "carla.rossi@example.net"},
	{"Jürgen Müller", "juergen.mueller@example.de"},
	{"山田 太郎", "taro.yamada@example.jp"},
	{"Priya Natarajan", "priya@example.com"},
	{"Søren Kierkegaard", "soren@example.dk"},
	{"Zoë Dubois", "zoe.dubois@example.fr"},
	{"GitHub", "notifications@github.example"},
	{"Calendar", "calendar-noreply@example.com"},
	{"Billing", "billing@cloud.example"},
}

// spammers send what lands in Junk.
var spammers = []person{
	{"Prize Department", "winner@lottery.example"},
	{"Crypto Gains", "offers@moon.example"},
	{"Pharmacy Online", "deals@pills.example"},
}

// topic is one conversation: a subject (any Unicode) and paragraphs of text.
type topic struct {
	subject string
	paras   []string
}

// topics are the everyday messages spread over the folders.
var topics = []topic{
	{"Quarterly planning – agenda draft", []string{
		"Here is a first cut of the agenda for Thursday. Please add anything I missed before Wednesday noon.",
		"1. Review of last quarter's goals\n2. Hiring plan\n3. Infrastructure budget\n4. Open questions",
	}},
	{"Lunch on Friday?", []string{
		"A few of us are going to the new ramen place around the corner on Friday at 12:30.",
		"Let me know if you want to join and I will book a table for the group.",
	}},
	{"Invoice #2026-0412 is available", []string{
		"Your invoice for the period 1–31 March is now available in the billing console.",
		"Amount due: EUR 42.00. Payment will be collected automatically on the due date.",
	}},
	{"Re: Design review notes", []string{
		"Thanks for the thorough notes. I agree with most of the points about the connection lifecycle.",
		"One question: should the reconnect delay be jittered on the client as well, or only on the server?",
	}},
	{"[imapbridge] Pull request #128: auto-IDLE re-entry", []string{
		"A new pull request was opened: the session now re-enters IDLE after every command when a mailbox is selected.",
		"Checks: 14 passed, 0 failed. Review requested from you.",
	}},
	{"Grüße aus München – Termin nächste Woche", []string{
		"Hallo! Könnten wir den Termin auf Dienstag, 14 Uhr, verschieben? Am Montag bin ich leider unterwegs.",
		"Viele Grüße aus dem sonnigen München und bis bald.",
	}},
	{"会議の議事録について", []string{
		"お疲れ様です。昨日の会議の議事録を共有します。ご確認のほどよろしくお願いいたします。",
		"次回の会議は来週の水曜日、午後三時からを予定しています。",
	}},
	{"Your trip to Lisbon: itinerary", []string{
		"Flight TP 1351 departs at 07:25 and arrives at 09:05 local time. Seat 14C.",
		"Hotel check-in from 15:00. The booking reference is QX7P2L.",
	}},
	{"Weekly metrics: sessions up 18%", []string{
		"Active sessions grew 18% week over week; p50 command latency stayed at 0.4 ms.",
		"Push latency p99 improved from 9 ms to 4 ms after the write-path change.",
	}},
	{"Café menu for the offsite", []string{
		"The café can do a vegetarian lunch for twenty people, with crème brûlée for dessert.",
		"Please tell me about any allergies by the end of the week.",
	}},
	{"Re: Contract renewal", []string{
		"Legal has reviewed the renewal and has two small comments on clause 7.2, attached.",
		"If those are fine with you, we can sign before the end of the month.",
	}},
	{"Photos from the hike", []string{
		"What a day! Attaching my favourite shot from the ridge.",
		"Same time next month? The weather should be even better.",
	}},
	{"Security alert: new sign-in", []string{
		"We noticed a new sign-in to your account from a Linux device.",
		"If this was you, you can ignore this message. Otherwise, please reset your password.",
	}},
	{"Reading group: chapter 4", []string{
		"Next session we discuss chapter 4. The section on back-pressure is the one I would like to spend time on.",
		"Bring questions; snacks are on me.",
	}},
	{"Øresund bridge run – sign-up open", []string{
		"Registration for the bridge run is open until 30 April. The route crosses from Copenhagen to Malmö.",
		"Team jerseys are available in all sizes.",
	}},
}

// projectTopics fill Projects and Projects/Bridge.
var projectTopics = []topic{
	{"Bridge: protocol v1 frozen", []string{
		"The imapbridge.v1 wire contract is frozen. From now on every change is additive or goes to v2.",
		"Golden fixtures are under testdata/ and the SDK tests consume them.",
	}},
	{"Bridge: benchmark results", []string{
		"NOOP round-trip overhead through the bridge is well under the 100 µs target on loopback.",
		"Memory per idle session is the next thing to measure at 5,000 sessions.",
	}},
	{"Bridge: demo page feedback", []string{
		"The demo page looks great. Remote images are blocked by default, as they should be.",
		"Could the event log show the sequence number of each event?",
	}},
	{"Roadmap: Q3 themes", []string{
		"Three themes for Q3: reliability, observability and a smaller SDK bundle.",
	}},
}

// junkTopics are what spammers send.
var junkTopics = []topic{
	{"Congratulations!!! You have WON", []string{
		"You have been selected as the winner of our monthly draw. Click the image below to claim your prize.",
	}},
	{"Double your crypto in 24 hours", []string{
		"Guaranteed returns, no risk. Limited slots available today only.",
	}},
	{"Exclusive offer just for you", []string{
		"Save 90% on everything. This offer expires at midnight.",
	}},
}

// liveTopics are used for mail delivered while the server runs.
var liveTopics = []topic{
	{"Ping: are you around?", []string{"Quick question about the release when you have a minute."}},
	{"New comment on your document", []string{"Someone left a comment on \"Architecture overview\": looks good to me."}},
	{"Build finished: main #%d", []string{"The build on main finished successfully in 3m 12s."}},
	{"Reminder: stand-up in 10 minutes", []string{"The daily stand-up starts in 10 minutes in the usual room."}},
	{"Neue Nachricht von Jürgen", []string{"Kurze Frage: Passt dir morgen um zehn?"}},
	{"新着メッセージ", []string{"資料を更新しました。お時間のある時にご確認ください。"}},
	{"Your package is on its way", []string{"Your order has shipped and should arrive within two business days."}},
}

// signatures end the text part.
var signatures = []string{
	"Best,\n%s",
	"Cheers,\n%s",
	"Thanks!\n%s",
	"Viele Grüße\n%s",
	"よろしくお願いします。\n%s",
}
