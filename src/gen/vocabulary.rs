//! The seed vocabulary of the generator: the states, regions and agreements of
//! ../shared/data (published sources, see its README), so that generated data
//! reads like the real thing; everything else is varied from these.

/// A state: ISO code, names (en, ru), the IANA zone and city of its capital.
pub struct State {
    pub code: &'static str,
    pub en: &'static str,
    pub ru: &'static str,
    pub zone: &'static str,
    pub city: &'static str,
}

pub const STATES: &[State] = &[
    State {
        code: "AM",
        en: "Armenia",
        ru: "Армения",
        zone: "Asia/Yerevan",
        city: "Yerevan",
    },
    State {
        code: "BY",
        en: "Belarus",
        ru: "Беларусь",
        zone: "Europe/Minsk",
        city: "Minsk",
    },
    State {
        code: "KZ",
        en: "Kazakhstan",
        ru: "Казахстан",
        zone: "Asia/Almaty",
        city: "Astana",
    },
    State {
        code: "KG",
        en: "Kyrgyzstan",
        ru: "Киргизия",
        zone: "Asia/Bishkek",
        city: "Bishkek",
    },
    State {
        code: "RU",
        en: "Russia",
        ru: "Россия",
        zone: "Europe/Moscow",
        city: "Moscow",
    },
    State {
        code: "TJ",
        en: "Tajikistan",
        ru: "Таджикистан",
        zone: "Asia/Dushanbe",
        city: "Dushanbe",
    },
    State {
        code: "TM",
        en: "Turkmenistan",
        ru: "Туркмения",
        zone: "Asia/Ashgabat",
        city: "Ashgabat",
    },
    State {
        code: "UZ",
        en: "Uzbekistan",
        ru: "Узбекистан",
        zone: "Asia/Tashkent",
        city: "Tashkent",
    },
];

/// A sub-national region: ISO 3166-2 code, names, its state, zone and city.
pub struct Region {
    pub code: &'static str,
    pub en: &'static str,
    pub ru: &'static str,
    pub state: &'static str,
    pub zone: &'static str,
    pub city: &'static str,
}

pub const REGIONS: &[Region] = &[
    Region {
        code: "RU-SVE",
        en: "Sverdlovsk region",
        ru: "Свердловская область",
        state: "RU",
        zone: "Asia/Yekaterinburg",
        city: "Yekaterinburg",
    },
    Region {
        code: "KZ-KUS",
        en: "Kostanay region",
        ru: "Костанайская область",
        state: "KZ",
        zone: "Asia/Qostanay",
        city: "Kostanay",
    },
    Region {
        code: "KZ-AKM",
        en: "Akmola region",
        ru: "Акмолинская область",
        state: "KZ",
        zone: "Asia/Almaty",
        city: "Kokshetau",
    },
    Region {
        code: "KZ-SEV",
        en: "North Kazakhstan region",
        ru: "Северо-Казахстанская область",
        state: "KZ",
        zone: "Asia/Almaty",
        city: "Petropavl",
    },
    Region {
        code: "KZ-AST",
        en: "Astana (city)",
        ru: "Астана",
        state: "KZ",
        zone: "Asia/Almaty",
        city: "Astana",
    },
    Region {
        code: "KZ-ALA",
        en: "Almaty (city)",
        ru: "Алматы",
        state: "KZ",
        zone: "Asia/Almaty",
        city: "Almaty",
    },
    Region {
        code: "RU-AST",
        en: "Astrakhan region",
        ru: "Астраханская область",
        state: "RU",
        zone: "Europe/Astrakhan",
        city: "Astrakhan",
    },
    Region {
        code: "RU-TA",
        en: "Republic of Tatarstan",
        ru: "Республика Татарстан",
        state: "RU",
        zone: "Europe/Moscow",
        city: "Kazan",
    },
    Region {
        code: "RU-MOW",
        en: "Moscow (city)",
        ru: "Москва",
        state: "RU",
        zone: "Europe/Moscow",
        city: "Moscow",
    },
];

/// A real agreement of ../shared/data/agreements.yaml (source S1 or S3).
pub struct RealAgreement {
    pub parties: [&'static str; 2],
    pub kind: &'static str,
    pub signed: &'static str,
    pub title: &'static str,
    pub interministerial: bool,
}

pub const AGREEMENTS: &[RealAgreement] = &[
    RealAgreement { parties: ["AM", "BY"], kind: "agreement", signed: "1990-08-24", title: "Agreement on Economic, Scientific, Technical and Cultural Cooperation", interministerial: false },
    RealAgreement { parties: ["AM", "KZ"], kind: "agreement", signed: "2006-11-06", title: "Agreement on Cooperation in the Field of Culture", interministerial: false },
    RealAgreement { parties: ["AM", "KG"], kind: "agreement", signed: "1997-04-21", title: "Agreement on Cooperation in the Field of Education, Science and Culture", interministerial: false },
    RealAgreement { parties: ["AM", "RU"], kind: "agreement", signed: "2010-09-10", title: "Agreement on Cooperation in the Humanitarian Field", interministerial: false },
    RealAgreement { parties: ["BY", "KZ"], kind: "agreement", signed: "1999-11-04", title: "Agreement on Cooperation in the Fields of Culture and Arts", interministerial: false },
    RealAgreement { parties: ["BY", "KG"], kind: "agreement", signed: "2018-07-11", title: "Agreement between the Ministry of Culture of Belarus and the Ministry of Culture, Information and Tourism of Kyrgyzstan on Cooperation in the Field of Culture", interministerial: true },
    RealAgreement { parties: ["BY", "RU"], kind: "agreement", signed: "1995-02-21", title: "Agreement on Cooperation in the Field of Culture, Education and Science", interministerial: false },
    RealAgreement { parties: ["KZ", "KG"], kind: "treaty", signed: "1997-04-08", title: "Treaty of Eternal Friendship", interministerial: false },
    RealAgreement { parties: ["KZ", "RU"], kind: "agreement", signed: "1994-03-28", title: "Agreement between the Government of Kazakhstan and the Government of Russia on Cooperation in Culture, Science and Education", interministerial: false },
    RealAgreement { parties: ["KZ", "RU"], kind: "agreement", signed: "1993-04-14", title: "Agreement on Cooperation in the Field of Culture between the Ministry of Culture of Kazakhstan and the Ministry of Culture of Russia", interministerial: true },
    RealAgreement { parties: ["KZ", "RU"], kind: "memorandum", signed: "2012-09", title: "Memorandum between the Kazakhfilm studio and the Russian Cinema Fund on expanding cooperation between the two cinematographies", interministerial: false },
    RealAgreement { parties: ["KG", "RU"], kind: "agreement", signed: "1992-06-10", title: "Agreement on Cultural Cooperation", interministerial: false },
    RealAgreement { parties: ["KG", "RU"], kind: "agreement", signed: "2012-04-05", title: "Agreement on Cooperation in the Humanitarian Sphere", interministerial: false },
    RealAgreement { parties: ["KZ", "TJ"], kind: "agreement", signed: "1995-11", title: "Long-term agreements in the field of culture and science", interministerial: false },
    RealAgreement { parties: ["KZ", "TM"], kind: "agreement", signed: "1992-10-05", title: "Agreement on Trade-Economic, Scientific-Technical and Cultural Cooperation", interministerial: false },
    RealAgreement { parties: ["KZ", "UZ"], kind: "agreement", signed: "1992-11-23", title: "Agreement on Cooperation in the Field of Culture", interministerial: false },
];

/// Titles of the invented agreements between any two parties (en, ru).
pub const AGREEMENT_TITLES: &[(&str, &str)] = &[
    (
        "Agreement on Cooperation in the Field of Culture",
        "Соглашение о сотрудничестве в области культуры",
    ),
    (
        "Memorandum of Understanding on Cultural Cooperation",
        "Меморандум о взаимопонимании в области культурного сотрудничества",
    ),
    (
        "Agreement on Cooperation in the Humanitarian Field",
        "Соглашение о сотрудничестве в гуманитарной сфере",
    ),
    (
        "Agreement on Cooperation in the Field of Cinematography",
        "Соглашение о сотрудничестве в области кинематографии",
    ),
    (
        "Agreement on Cooperation between Museums",
        "Соглашение о сотрудничестве между музеями",
    ),
    (
        "Roadmap of Cultural and Humanitarian Cooperation",
        "Дорожная карта культурно-гуманитарного сотрудничества",
    ),
];

/// Organisations every state has (kind, en, ru): the ministry first, it signs.
pub const INSTITUTIONS: &[(&str, &str, &str)] = &[
    ("ministry", "Ministry of Culture", "Министерство культуры"),
    (
        "theatre",
        "National Opera and Ballet Theatre",
        "Национальный театр оперы и балета",
    ),
    ("museum", "National Museum", "Национальный музей"),
    ("library", "National Library", "Национальная библиотека"),
    (
        "film_studio",
        "National Film Studio",
        "Национальная киностудия",
    ),
    ("university", "University of Arts", "Университет искусств"),
    (
        "concert_agency",
        "State Concert Agency",
        "Государственное концертное агентство",
    ),
    (
        "cultural_centre",
        "Centre for Folk Art",
        "Центр народного творчества",
    ),
];

/// Organisations of a region (kind, en, ru).
pub const REGIONAL_INSTITUTIONS: &[(&str, &str, &str)] = &[
    ("department", "Department of Culture", "Управление культуры"),
    ("theatre", "Drama Theatre", "Драматический театр"),
    ("museum", "Museum of Local History", "Краеведческий музей"),
    ("library", "Regional Library", "Областная библиотека"),
];

/// Sections of a programme (en, ru) and the kinds of items each holds.
pub const SECTIONS: &[(&str, &str, &[&str])] = &[
    (
        "Theatre and music",
        "Театр и музыка",
        &["tour", "concert", "festival"],
    ),
    (
        "Cinema",
        "Кинематография",
        &["film_week", "co_production", "festival"],
    ),
    (
        "Museums and exhibitions",
        "Музеи и выставки",
        &["exhibition", "information_exchange"],
    ),
    (
        "Libraries and archives",
        "Библиотеки и архивы",
        &[
            "publication",
            "information_exchange",
            "exchange_of_delegations",
        ],
    ),
    (
        "Arts education",
        "Художественное образование",
        &["training", "conference", "exchange_of_delegations"],
    ),
    (
        "Days of culture and youth",
        "Дни культуры и молодёжь",
        &["days_of_culture", "festival", "consultation"],
    ),
];

/// What an item of a kind says, with {a} and {b} for the two parties (en, ru).
pub fn obligation_text(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "days_of_culture" => (
            "Hold the Days of Culture of {a} in {b}",
            "Провести Дни культуры стороны {a} в стороне {b}",
        ),
        "tour" => (
            "Organise an exchange tour of leading theatres of {a} and {b} on a parity basis",
            "Организовать обменные гастроли ведущих театров сторон {a} и {b} на паритетной основе",
        ),
        "concert" => (
            "Exchange concerts of leading creative groups of {a} and {b}",
            "Провести обменные концерты ведущих творческих коллективов сторон {a} и {b}",
        ),
        "festival" => (
            "Take part in each other's international festivals ({a}, {b})",
            "Обеспечить участие в международных фестивалях сторон {a} и {b}",
        ),
        "film_week" => (
            "Hold a week of films of {a} in {b}",
            "Провести неделю кино стороны {a} в стороне {b}",
        ),
        "co_production" => (
            "Develop joint film projects on common historical events ({a}, {b})",
            "Разработать совместные кинопроекты об общих исторических событиях ({a}, {b})",
        ),
        "exhibition" => (
            "Hold an exhibition from the collections of national museums of {a} in {b}",
            "Провести выставку из собраний национальных музеев стороны {a} в стороне {b}",
        ),
        "information_exchange" => (
            "Exchange information on cultural events and legislation ({a}, {b})",
            "Обмениваться информацией о культурных мероприятиях и законодательстве ({a}, {b})",
        ),
        "publication" => (
            "Exchange literature and publish translations of classics ({a}, {b})",
            "Обмениваться литературой и издавать переводы классиков ({a}, {b})",
        ),
        "exchange_of_delegations" => (
            "Exchange delegations of up to 5 persons for up to 7 days ({a}, {b})",
            "Обмениваться делегациями до 5 человек сроком до 7 дней ({a}, {b})",
        ),
        "training" => (
            "Organise master classes and internships for young artists of {a} in {b}",
            "Организовать мастер-классы и стажировки молодых артистов стороны {a} в стороне {b}",
        ),
        "conference" => (
            "Hold a joint scientific conference on cultural heritage ({a}, {b})",
            "Провести совместную научную конференцию по культурному наследию ({a}, {b})",
        ),
        "consultation" => (
            "Hold consultations between the ministries of culture of {a} and {b}",
            "Провести консультации между министерствами культуры сторон {a} и {b}",
        ),
        _ => (
            "Cooperate in the field of culture ({a}, {b})",
            "Сотрудничать в области культуры ({a}, {b})",
        ),
    }
}

/// Event kinds and how they are titled (en, ru), with {g} the guest and {h} the host.
pub const EVENT_KINDS: &[(&str, &str, &str)] = &[
    (
        "days_of_culture",
        "Days of Culture of {g} in {h}",
        "Дни культуры: {g} в стороне {h}",
    ),
    (
        "tour",
        "Tour of a theatre of {g} in {h}",
        "Гастроли театра стороны {g}: {h}",
    ),
    (
        "premiere",
        "Premiere of a co-production of {g} and {h}",
        "Премьера совместной постановки ({g}, {h})",
    ),
    (
        "exhibition",
        "Exhibition of {g} in {h}",
        "Выставка стороны {g}: {h}",
    ),
    (
        "festival",
        "Festival of the arts of {g} in {h}",
        "Фестиваль искусств стороны {g}: {h}",
    ),
    (
        "concert",
        "Gala concert of {g} in {h}",
        "Гала-концерт стороны {g}: {h}",
    ),
    (
        "film_week",
        "Week of films of {g} in {h}",
        "Неделя кино стороны {g}: {h}",
    ),
    (
        "forum",
        "Youth forum of {g} and {h}",
        "Молодёжный форум ({g}, {h})",
    ),
    (
        "opening",
        "Opening of a cultural centre of {g} in {h}",
        "Открытие культурного центра стороны {g}: {h}",
    ),
    (
        "conference",
        "Conference on the shared heritage of {g} and {h}",
        "Конференция об общем наследии ({g}, {h})",
    ),
];

/// Zones (and a city in each) where events take place: the parties' own and
/// those of touring abroad, so feeds cross many offsets and DST rules.
pub const EVENT_ZONES: &[(&str, &str)] = &[
    ("Asia/Almaty", "Astana"),
    ("Asia/Qostanay", "Kostanay"),
    ("Asia/Aqtobe", "Aktobe"),
    ("Asia/Oral", "Oral"),
    ("Europe/Moscow", "Moscow"),
    ("Europe/Moscow", "Kazan"),
    ("Asia/Yekaterinburg", "Yekaterinburg"),
    ("Europe/Astrakhan", "Astrakhan"),
    ("Asia/Novosibirsk", "Novosibirsk"),
    ("Asia/Vladivostok", "Vladivostok"),
    ("Europe/Kaliningrad", "Kaliningrad"),
    ("Europe/Minsk", "Minsk"),
    ("Asia/Yerevan", "Yerevan"),
    ("Asia/Bishkek", "Bishkek"),
    ("Asia/Dushanbe", "Dushanbe"),
    ("Asia/Ashgabat", "Ashgabat"),
    ("Asia/Tashkent", "Tashkent"),
    ("Asia/Samarkand", "Samarkand"),
    ("Asia/Tbilisi", "Tbilisi"),
    ("Asia/Baku", "Baku"),
    ("Europe/Istanbul", "Istanbul"),
    ("Europe/Berlin", "Berlin"),
    ("Europe/Paris", "Paris"),
    ("Europe/London", "London"),
    ("Europe/Vienna", "Vienna"),
    ("Asia/Shanghai", "Beijing"),
    ("Asia/Tokyo", "Tokyo"),
    ("Asia/Seoul", "Seoul"),
    ("Asia/Kolkata", "New Delhi"),
    ("Asia/Dubai", "Dubai"),
    ("America/New_York", "New York"),
    ("America/Sao_Paulo", "Sao Paulo"),
    ("Australia/Sydney", "Sydney"),
    ("Africa/Cairo", "Cairo"),
];

/// Given names and family names of contacts (transliterated).
pub const GIVEN_NAMES: &[&str] = &[
    "Aigerim", "Asel", "Dana", "Madina", "Olga", "Irina", "Anna", "Nune", "Gulnara", "Zarina",
    "Yerlan", "Nurlan", "Arman", "Sergei", "Dmitry", "Alexei", "Aram", "Timur", "Bakyt", "Rustam",
];
pub const FAMILY_NAMES: &[&str] = &[
    "Abenova",
    "Sadykova",
    "Ivanova",
    "Petrova",
    "Hakobyan",
    "Karimova",
    "Usenova",
    "Rahimova",
    "Seitkali",
    "Omarov",
    "Smirnov",
    "Kovalenko",
    "Sargsyan",
    "Mamytov",
    "Yusupov",
    "Nazarov",
];
