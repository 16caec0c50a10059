//! What the demo's customers, agents and bots say: each intent's openings and the agent's answers,
//! written as many ways as people write them, with `{slot}`s the generator fills.

/// One reason to contact support, with how customers raise it and how agents answer it.
pub(super) struct Intent {
    /// The label the ground truth records (the support taxonomy's intent).
    pub name: &'static str,
    /// How often it comes up, relative to the others.
    pub weight: u32,
    /// The queue (team) it is routed to.
    pub queue: &'static str,
    /// First messages in English.
    pub openings: &'static [&'static str],
    /// Follow-up details the customer may add.
    pub details: &'static [&'static str],
    /// What an agent says that solves it.
    pub fixes: &'static [&'static str],
    /// What an agent asks when they need more before they can help.
    pub questions: &'static [&'static str],
    /// Whether the customer is usually upset.
    pub negative: bool,
}

/// The support intents of the demo shop.
pub(super) const INTENTS: &[Intent] = &[
    Intent {
        name: "delivery_status",
        weight: 18,
        queue: "Orders",
        openings: &[
            "My order {order} still hasn't arrived and it's been {days} days.",
            "Where is my package? The tracking page hasn't updated since {weekday}.",
            "Can you tell me when my parcel will be delivered? Order {order}.",
            "The courier says delivered but there is nothing at my door.",
            "It's been two weeks and my {product} is nowhere to be seen.",
            "tracking number doesnt work, it says label created for {days} days now",
            "any update on my delivery? ordered the {product} last week",
            "I was told my order would ship in 2 days and I'm still waiting.",
            "When will order {order} be delivered? I need the {product} by Friday.",
        ],
        details: &[
            "The tracking just says 'in transit' with no date.",
            "I paid for express shipping.",
            "It's a birthday present so I really need it soon.",
            "The courier was on strike last week, is that why?",
        ],
        fixes: &[
            "I've checked with the courier: your parcel is out for delivery and should arrive tomorrow.",
            "I've sent a replacement by express delivery, it will be with you in two days.",
            "Your order has been located at the depot and it will be delivered on {weekday}.",
        ],
        questions: &["Could you confirm the delivery address on the order?", "Which order number is it, please?"],
        negative: true,
    },
    Intent {
        name: "return_refund",
        weight: 12,
        queue: "Orders",
        openings: &[
            "The {product} arrived broken and I want to return it.",
            "I'd like a refund for order {order}, it's not what I ordered.",
            "Can I send back the {product}? It doesn't fit.",
            "I returned the {product} {days} days ago and still no refund.",
            "Please give me my money back for the {product}, it stopped working after a day.",
            "How do I return an item? The {product} came in the wrong colour.",
            "I want a refund. The {product} is nothing like the pictures.",
        ],
        details: &["The box was crushed when it arrived.", "I still have the original packaging."],
        fixes: &[
            "I've issued a full refund of {amount}; it will show on your statement in 3-5 business days.",
            "I've sent you a prepaid return label by email, and your refund has been processed.",
            "I have refunded the {product}; you don't need to send it back.",
        ],
        questions: &["Could you send me a photo of the damage?", "Do you still have the order confirmation?"],
        negative: true,
    },
    Intent {
        name: "cancel_subscription",
        weight: 8,
        queue: "Billing",
        openings: &[
            "I want to cancel my subscription.",
            "Please stop renewing my {plan}, I don't use it anymore.",
            "How do I close my account? I'm moving to {competitor}.",
            "Cancel my membership please, it's too expensive for me now.",
            "I'd like to end my plan at the end of this month.",
        ],
        details: &["{competitor} is half the price.", "I barely used it the last few months."],
        fixes: &[
            "I've cancelled your subscription; you keep access until the end of the billing period.",
            "Your plan has been cancelled and you won't be charged again.",
        ],
        questions: &["May I ask why you'd like to cancel?", "Would you like to pause instead of cancelling?"],
        negative: false,
    },
    Intent {
        name: "cancel_order",
        weight: 5,
        queue: "Orders",
        openings: &[
            "Please cancel my order {order}, I ordered by mistake.",
            "Can you cancel the {product} I just ordered? I found it cheaper elsewhere.",
            "I need to cancel order {order} before it ships.",
        ],
        details: &["I placed it twice by accident."],
        fixes: &["I've cancelled order {order} and refunded {amount} to your card."],
        questions: &["Which of the two orders should I cancel?"],
        negative: false,
    },
    Intent {
        name: "login_issue",
        weight: 9,
        queue: "Tech",
        openings: &[
            "I can't log into my account after changing my password.",
            "The password reset email never arrives.",
            "The app keeps logging me out every time I open it.",
            "I'm locked out of my account, the 2FA code isn't coming through.",
            "it says my password is wrong but I just reset it",
        ],
        details: &["I've tried on my phone and my laptop.", "I checked the spam folder too."],
        fixes: &[
            "I've reset your password; the new link is in your inbox and should work now.",
            "I've unlocked your account, you can sign in again.",
        ],
        questions: &["Which device and app version are you using?"],
        negative: true,
    },
    Intent {
        name: "billing_issue",
        weight: 9,
        queue: "Billing",
        openings: &[
            "I was charged twice for my {plan} this month.",
            "Why was I billed {amount} after I cancelled?",
            "My subscription renewed automatically without asking me.",
            "There's a charge of {amount} on my card I don't recognise.",
            "The invoice shows the wrong amount, I should be paying {amount}.",
        ],
        details: &["This is the second month in a row.", "I need a corrected invoice for my accountant."],
        fixes: &[
            "I've refunded the duplicate charge of {amount}; it will be back on your card in a few days.",
            "I've corrected the invoice and sent it to your email.",
        ],
        questions: &["Could you tell me the date of the charge?"],
        negative: true,
    },
    Intent {
        name: "discount_code",
        weight: 5,
        queue: "Sales",
        openings: &[
            "The discount code from your newsletter doesn't work at checkout.",
            "My promo code says expired but the email says it's valid until Sunday.",
            "Does the sale price apply to gift cards?",
            "I forgot to apply my coupon, can you still give me the discount?",
        ],
        details: &["The code is {code}."],
        fixes: &["I've applied the discount manually, your order total is now {amount}."],
        questions: &["Which code did you try?"],
        negative: false,
    },
    Intent {
        name: "change_order",
        weight: 4,
        queue: "Orders",
        openings: &[
            "I need to change the shipping address on my order {order}.",
            "Can I add another {product} to my order?",
            "Can I swap the {product} for a different size before it ships?",
        ],
        details: &["I'm moving next week."],
        fixes: &["I've updated the order; the new details are on your confirmation email."],
        questions: &["What's the new address?"],
        negative: false,
    },
    Intent {
        name: "plan_change",
        weight: 4,
        queue: "Billing",
        openings: &[
            "I'd like to upgrade my plan to the {plan}.",
            "Can I switch to the yearly plan?",
            "How do I downgrade to basic? I don't need premium anymore.",
        ],
        details: &["My partner wants to use it too."],
        fixes: &["I've upgraded your plan; the change shows on your next bill."],
        questions: &["Would you like the change to start today or at renewal?"],
        negative: false,
    },
    Intent {
        name: "app_problem",
        weight: 6,
        queue: "Tech",
        openings: &[
            "The app crashes when I open it.",
            "The app freezes on the checkout screen.",
            "The app won't load my order history since the update.",
            "Every time I tap pay the app just closes on my {device}.",
        ],
        details: &["I reinstalled it already.", "It started after the last update."],
        fixes: &["Version 8.2.2 fixes this; please update from the app store and it should work now."],
        questions: &["Which phone and app version are you on?"],
        negative: true,
    },
    Intent {
        name: "pre_purchase",
        weight: 10,
        queue: "Sales",
        openings: &[],
        details: &[],
        fixes: &[
            "I can offer you 10% off your first order with the code WELCOME10.",
            "Shipping is free on orders over $50, and we deliver in 2-3 days.",
            "Yes, it works with {device}, and you can return it within 30 days if it doesn't suit you.",
        ],
        questions: &["What will you mostly use it for?"],
        negative: false,
    },
    Intent {
        name: "feature_request",
        weight: 6,
        queue: "Tech",
        openings: &[
            "It would be great if the app had {feature}.",
            "Any plans to add {feature}? I'd really use it.",
            "Please add {feature}, it's the one thing missing.",
            "Feature request: {feature}.",
            "Love the app, but I really miss {feature}.",
        ],
        details: &["{competitor} has it already.", "My whole team would use it."],
        fixes: &["I've passed your request for {feature} to our product team."],
        questions: &["How would you use it?"],
        negative: false,
    },
];

/// Why a shopper hesitates before buying: the ground truth's objection and how they say it.
pub(super) const OBJECTIONS: &[(&str, &[&str])] = &[
    (
        "price",
        &[
            "Is there any discount on the {plan}? {amount} a month seems a lot.",
            "The {product} is a bit pricey, do you price match?",
            "Why is the {product} more expensive than last month?",
        ],
    ),
    (
        "shipping",
        &[
            "How much is shipping to {city}? Checkout adds {amount}, which seems high.",
            "How long does delivery take? I need it before the weekend.",
        ],
    ),
    (
        "competitor",
        &[
            "{competitor} offers the same for less, why should I choose you?",
            "What's the difference between your {plan} and {competitor}'s?",
        ],
    ),
    ("compatibility", &["Does the {product} work with {device}?", "Will the app run on my {device}?"]),
    ("trust", &["Is it easy to cancel if I don't like it?", "Do you offer a warranty on the {product}?"]),
];

/// What a lead from a confusing campaign says: the offer they saw is not what checkout shows.
pub(super) const CONFUSION: &[&str] = &[
    "The {campaign} ad said {pct}% off but checkout shows the full price.",
    "Your {campaign} email said free shipping but I'm being charged {amount} for delivery.",
    "I expected the {product} to be included in the {campaign} offer, that's what the ad showed.",
    "I thought the {campaign} price was per year, not per month?",
];

/// Openings in the other languages the shop's customers write in, by intent: (intent, language,
/// opening, thanks when solved).
pub(super) const FOREIGN: &[(&str, &str, &str, &str)] = &[
    ("delivery_status", "es", "Hola, mi pedido {order} no ha llegado todavía.", "Perfecto, ya ha llegado. Gracias."),
    ("delivery_status", "fr", "Bonjour, ma commande {order} n'est pas encore arrivée.", "Merci, c'est réglé."),
    (
        "delivery_status",
        "de",
        "Hallo, meine Bestellung {order} ist noch nicht angekommen.",
        "Danke, jetzt funktioniert alles.",
    ),
    ("return_refund", "es", "Mi {product} llegó roto y quiero devolverlo.", "Gracias, ya funciona el reembolso."),
    ("return_refund", "fr", "Je voudrais être remboursé, le produit est arrivé cassé.", "Merci, c'est réglé."),
    ("cancel_subscription", "de", "Ich möchte mein Abo kündigen.", "Danke, alles erledigt."),
    ("cancel_subscription", "fr", "Bonjour, je voudrais annuler mon abonnement.", "Merci, c'est réglé."),
    ("login_issue", "de", "Ich kann mich seit dem Update nicht mehr anmelden.", "Danke, jetzt funktioniert alles."),
    ("billing_issue", "es", "Me han cobrado dos veces este mes.", "Gracias, ya está resuelto."),
    ("cancel_order", "pt", "Olá, quero cancelar o meu pedido {order}.", "Obrigado, está resolvido."),
];

/// What an agent answers in the customer's language: (language, answer).
pub(super) const FOREIGN_ANSWERS: &[(&str, &str)] = &[
    ("es", "Lo siento mucho, ya lo he solucionado."),
    ("fr", "Je suis désolé, c'est corrigé de notre côté."),
    ("de", "Das tut mir leid, ich habe das erledigt."),
    ("pt", "Lamento, já tratei disso."),
];

/// How customers open a message before saying why they write.
pub(super) const HELLOS: &[&str] = &["", "", "Hi, ", "Hello, ", "Hey, ", "Good morning, ", "Hi there! "];

/// What an upset customer adds.
pub(super) const FRUSTRATION: &[&str] = &[
    "This is ridiculous.",
    "Honestly, I'm really disappointed.",
    "I've been waiting forever and nobody helps.",
    "This is the third time I'm asking!!",
    "Terrible service so far.",
];

/// What a customer says when the agent's answer solved it.
pub(super) const THANKS: &[&str] = &[
    "That worked, thank you!",
    "Great, thanks for your help.",
    "Perfect, that's sorted then. Thanks!",
    "Thanks, it works now.",
    "ok great, thank you so much",
];

/// What a customer says when nothing was solved.
pub(super) const UNSOLVED: &[&str] = &[
    "That doesn't help at all, it's still not fixed.",
    "So nobody can actually fix this? Unbelievable.",
    "Still not working. I'll look elsewhere.",
    "That's not what I asked, and it still doesn't work.",
];

/// What an agent says when they cannot solve it.
pub(super) const NO_ANSWERS: &[&str] = &[
    "I understand. Unfortunately I can't see anything wrong on my side.",
    "I'm afraid there isn't much I can do about that at the moment.",
    "Our system shows everything as normal, so I'm not sure what happened.",
];

/// What an agent says when they hand the problem on.
pub(super) const ESCALATIONS: &[&str] = &[
    "I've escalated this to our {team} team; they'll get back to you within 48 hours.",
    "I'm escalating this to a specialist team who will contact you by email.",
    "I've raised a ticket with our back office, they'll follow up tomorrow.",
];

/// How agents greet, by channel shape: written and spoken.
pub(super) const GREETINGS: &[&str] = &[
    "Hi {first}, thanks for contacting Northwind support!",
    "Hello {first}, thanks for reaching out.",
    "Hi {first}, I'm {agent} and I'll help you today.",
    "Good morning {first}, thank you for getting in touch.",
];

/// How agents answer the phone when they greet properly.
pub(super) const PHONE_GREETINGS: &[&str] = &[
    "Thanks for calling Northwind, this is {agent}. How can I help?",
    "Hello, you're speaking with {agent} at Northwind. How may I help you?",
];

/// How agents answer the phone when they skip the greeting.
pub(super) const PHONE_BARE: &[&str] = &["Northwind, go ahead.", "Yes?"];

/// How agents verify who they are talking to: (question, what the customer answers with).
pub(super) const VERIFICATIONS: &[(&str, Verify)] = &[
    ("Before I look into it, can you confirm the email address on your account?", Verify::Email),
    ("For security, could you confirm the order number?", Verify::Order),
    ("Could you verify the postcode and street on the account, please?", Verify::Address),
];

/// What a verification question asks for.
#[derive(Clone, Copy)]
pub(super) enum Verify {
    /// The account's email.
    Email,
    /// An order number.
    Order,
    /// The street address.
    Address,
}

/// How agents close.
pub(super) const CLOSINGS: &[&str] = &[
    "Is there anything else I can help you with?",
    "Have a great day!",
    "Glad I could help, take care!",
    "Anything else I can do for you today?",
];

/// How the bot opens, and what it tries before a human takes over.
pub(super) const BOT_HELLOS: &[&str] =
    &["Hi! I'm Nova, the Northwind assistant. What can I help you with?", "Hello! What can I help you with today?"];
/// The bot's attempt at an answer.
pub(super) const BOT_TRIES: &[&str] = &[
    "Here's an article that might help: https://help.northwind.example/articles/123",
    "Did you know you can track orders and manage your plan under My account?",
];
/// The bot passing the chat to a person.
pub(super) const BOT_HANDOFFS: &[&str] =
    &["Let me connect you with one of our agents.", "I'm transferring you to a human agent now."];

/// Slot values.
pub(super) const PRODUCTS: &[&str] = &[
    "wireless headphones",
    "coffee grinder",
    "running shoes",
    "smart watch",
    "desk lamp",
    "backpack",
    "blender",
    "phone case",
    "winter jacket",
    "yoga mat",
    "bluetooth speaker",
    "air fryer",
];
/// The shop's plans (the taxonomy's `plan` entity).
pub(super) const PLANS: &[&str] = &["monthly plan", "yearly plan", "family bundle", "premium plan"];
/// Competitors (the taxonomy's `competitor` entity).
pub(super) const COMPETITORS: &[&str] = &["Acme", "Globex", "Initech", "Umbrella"];
/// Features customers ask for (the taxonomy's `feature` entity).
pub(super) const FEATURES: &[&str] = &[
    "dark mode",
    "offline mode",
    "csv export",
    "family sharing",
    "an apple watch app",
    "calendar sync",
    "gift wrapping",
    "order scheduling",
];
/// Devices.
pub(super) const DEVICES: &[&str] = &["iPhone 15", "Pixel 8", "Galaxy S23", "iPad", "my Android tablet"];
/// Cities.
pub(super) const CITIES: &[&str] = &["Chicago", "Toronto", "Austin", "Denver", "Boston", "Seattle"];
/// Weekdays.
pub(super) const WEEKDAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
/// Streets for planted addresses.
pub(super) const STREETS: &[&str] =
    &["Elm Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Park Road", "Lake Street"];

/// First names by language, and last names, for the demo's people.
pub(super) const FIRST_NAMES: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "Maria", "James", "Priya", "Michael", "Emily", "David", "Sarah", "Daniel", "Olivia", "Chris", "Aisha",
            "Kevin", "Laura", "Tom", "Grace", "Ryan", "Hannah", "Jordan", "Mei", "Omar",
        ],
    ),
    ("es", &["Lucía", "Javier", "Carmen", "Diego", "Sofía"]),
    ("fr", &["Julien", "Camille", "Antoine", "Léa", "Hugo"]),
    ("de", &["Klaus", "Anna", "Lukas", "Mia", "Jonas"]),
    ("pt", &["Ana", "João", "Beatriz", "Pedro"]),
];
/// Last names.
pub(super) const LAST_NAMES: &[&str] = &[
    "Lopez", "Smith", "Raman", "Johnson", "Chen", "Martin", "Schmidt", "Garcia", "Brown", "Nguyen", "Patel", "Miller",
    "Rossi", "Kim", "Davis", "Wilson", "Moreau", "Souza", "Fischer", "Taylor", "Anderson", "Clark",
];

/// The support agents: name, queue, and how reliably they greet, verify, offer a resolution and
/// close (the ground truth of the QA mart).
pub(super) const AGENTS: &[(&str, &str, [f64; 4])] = &[
    ("Dana Cruz", "Orders", [0.98, 0.90, 0.92, 0.95]),
    ("Sam Okafor", "Orders", [0.90, 0.40, 0.85, 0.70]),
    ("Lena Park", "Orders", [0.60, 0.75, 0.70, 0.50]),
    ("Marco Silva", "Orders", [0.95, 0.95, 0.95, 0.97]),
    ("Alex Kim", "Tech", [0.92, 0.85, 0.88, 0.90]),
    ("Nora Blake", "Tech", [0.70, 0.30, 0.65, 0.45]),
    ("Ravi Shah", "Tech", [0.97, 0.92, 0.90, 0.93]),
    ("Elena Petrova", "Billing", [0.96, 0.97, 0.90, 0.92]),
    ("Tom Becker", "Billing", [0.85, 0.55, 0.80, 0.65]),
    ("Jade Wong", "Billing", [0.93, 0.88, 0.94, 0.96]),
    ("Luis Ortega", "Sales", [0.99, 0.60, 0.85, 0.95]),
    ("Kate Morgan", "Sales", [0.75, 0.35, 0.75, 0.60]),
];
