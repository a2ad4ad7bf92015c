// The diesel view of the tables in migrations/{sqlite,postgres}. Kept in step with
// the migrations by hand; the `schema_matches_migrations` test checks the columns.

diesel::table! {
    parties (id) {
        id -> Text,
        code -> Text,
        parent_id -> Nullable<Text>,
        name -> Text,
        time_zone -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        key -> Text,
        party_id -> Text,
        parent_id -> Nullable<Text>,
        kind -> Text,
        name -> Text,
        time_zone -> Text,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        email -> Text,
        language -> Text,
        time_zone -> Text,
        role -> Text,
        notifications -> Text,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agreements (id) {
        id -> Text,
        key -> Text,
        kind -> Text,
        level -> Text,
        title -> Text,
        signed_kind -> Nullable<Text>,
        signed_text -> Nullable<Text>,
        signed_earliest -> Nullable<Date>,
        signed_latest -> Nullable<Date>,
        place -> Nullable<Text>,
        in_force_on -> Nullable<Date>,
        term_months -> Nullable<Integer>,
        renewal_months -> Nullable<Integer>,
        notice_months -> Nullable<Integer>,
        valid_until -> Nullable<Date>,
        source -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agreement_parties (agreement_id, party_id) {
        agreement_id -> Text,
        party_id -> Text,
    }
}

diesel::table! {
    agreement_signatories (agreement_id, organisation_id) {
        agreement_id -> Text,
        organisation_id -> Text,
    }
}

diesel::table! {
    bodies (id) {
        id -> Text,
        key -> Text,
        kind -> Text,
        name -> Text,
        parent_id -> Nullable<Text>,
        agreement_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    body_parties (body_id, party_id) {
        body_id -> Text,
        party_id -> Text,
        co_chair -> Nullable<Text>,
    }
}

diesel::table! {
    meetings (id) {
        id -> Text,
        body_id -> Text,
        number -> Integer,
        title -> Text,
        held_on -> Date,
        start_local -> Nullable<Timestamp>,
        time_zone -> Text,
        starts_at -> Nullable<Timestamp>,
        tzdata_version -> Nullable<Text>,
        city -> Nullable<Text>,
        status -> Text,
        source -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        meeting_id -> Text,
        number -> Text,
        kind -> Text,
        text -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    programmes (id) {
        id -> Text,
        key -> Text,
        title -> Text,
        agreement_id -> Nullable<Text>,
        body_id -> Nullable<Text>,
        period_text -> Text,
        period_start -> Date,
        period_end -> Date,
        public -> Bool,
        illustrative -> Bool,
        source -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    programme_parties (programme_id, party_id) {
        programme_id -> Text,
        party_id -> Text,
    }
}

diesel::table! {
    programme_signatories (programme_id, organisation_id) {
        programme_id -> Text,
        organisation_id -> Text,
    }
}

diesel::table! {
    sections (id) {
        id -> Text,
        programme_id -> Text,
        code -> Text,
        title -> Text,
        position -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    obligations (id) {
        id -> Text,
        programme_id -> Nullable<Text>,
        section_id -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
        decision_id -> Nullable<Text>,
        number -> Text,
        position -> Integer,
        text -> Text,
        kind -> Text,
        firmness -> Text,
        quantities -> Nullable<Text>,
        cost_terms -> Nullable<Text>,
        timeframe_kind -> Text,
        timeframe_text -> Text,
        earliest -> Nullable<Date>,
        latest -> Nullable<Date>,
        recurrence -> Nullable<Text>,
        lifecycle -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        search_text -> Text,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        obligation_id -> Text,
        organisation_id -> Text,
        party_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        key -> Nullable<Text>,
        title -> Text,
        kind -> Text,
        status -> Text,
        schedule -> Text,
        timeframe_kind -> Text,
        timeframe_text -> Text,
        earliest -> Nullable<Date>,
        latest -> Nullable<Date>,
        start_local -> Nullable<Timestamp>,
        end_local -> Nullable<Timestamp>,
        time_zone -> Nullable<Text>,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        tzdata_version -> Nullable<Text>,
        recurrence -> Nullable<Text>,
        host_party_id -> Nullable<Text>,
        guest_party_id -> Nullable<Text>,
        city -> Nullable<Text>,
        venue -> Nullable<Text>,
        source -> Nullable<Text>,
        note -> Nullable<Text>,
        sequence -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        exdates -> Nullable<Text>,
    }
}

diesel::table! {
    event_occurrences (event_id, recurrence_local) {
        event_id -> Text,
        recurrence_local -> Timestamp,
        status -> Text,
        start_local -> Timestamp,
        end_local -> Nullable<Timestamp>,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        tzdata_version -> Nullable<Text>,
        note -> Nullable<Text>,
        sequence -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    obligation_occurrences (obligation_id, year) {
        obligation_id -> Text,
        year -> Integer,
        earliest -> Date,
        latest -> Date,
    }
}

diesel::table! {
    lead_times (id) {
        id -> Text,
        event_id -> Nullable<Text>,
        obligation_id -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
        anchor -> Text,
        days_before -> Integer,
        title -> Text,
        party_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> Text,
        token_hash -> Text,
        organisation_id -> Nullable<Text>,
        contact_id -> Nullable<Text>,
        programme_id -> Nullable<Text>,
        party_id -> Nullable<Text>,
        language -> Nullable<Text>,
        label -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Calendar feeds' change counter (written only by triggers).
    feed_changes (seq) {
        seq -> BigInt,
    }
}

diesel::table! {
    event_organisations (event_id, organisation_id) {
        event_id -> Text,
        organisation_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    event_obligations (event_id, obligation_id) {
        event_id -> Text,
        obligation_id -> Text,
    }
}

diesel::table! {
    status_reports (id) {
        id -> Text,
        obligation_id -> Text,
        party_id -> Text,
        lifecycle -> Text,
        completion -> Text,
        narrative -> Nullable<Text>,
        as_of -> Date,
        reported_at -> Timestamp,
        reporter -> Text,
        decision_id -> Nullable<Text>,
        occurrence_year -> Nullable<Integer>,
    }
}

diesel::table! {
    evidence (id) {
        id -> Text,
        status_report_id -> Text,
        kind -> Text,
        description -> Nullable<Text>,
        url -> Nullable<Text>,
        sha256 -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::joinable!(organisations -> parties (party_id));
diesel::joinable!(contacts -> organisations (organisation_id));
diesel::joinable!(agreement_parties -> agreements (agreement_id));
diesel::joinable!(agreement_parties -> parties (party_id));
diesel::joinable!(agreement_signatories -> agreements (agreement_id));
diesel::joinable!(agreement_signatories -> organisations (organisation_id));
diesel::joinable!(bodies -> agreements (agreement_id));
diesel::joinable!(body_parties -> bodies (body_id));
diesel::joinable!(body_parties -> parties (party_id));
diesel::joinable!(meetings -> bodies (body_id));
diesel::joinable!(decisions -> meetings (meeting_id));
diesel::joinable!(programmes -> agreements (agreement_id));
diesel::joinable!(programmes -> bodies (body_id));
diesel::joinable!(programme_parties -> programmes (programme_id));
diesel::joinable!(programme_parties -> parties (party_id));
diesel::joinable!(programme_signatories -> programmes (programme_id));
diesel::joinable!(programme_signatories -> organisations (organisation_id));
diesel::joinable!(sections -> programmes (programme_id));
diesel::joinable!(obligations -> programmes (programme_id));
diesel::joinable!(obligations -> sections (section_id));
diesel::joinable!(obligations -> meetings (meeting_id));
diesel::joinable!(obligations -> decisions (decision_id));
diesel::joinable!(assignments -> obligations (obligation_id));
diesel::joinable!(assignments -> organisations (organisation_id));
diesel::joinable!(assignments -> parties (party_id));
diesel::joinable!(events -> parties (host_party_id));
diesel::joinable!(event_organisations -> events (event_id));
diesel::joinable!(event_organisations -> organisations (organisation_id));
diesel::joinable!(event_obligations -> events (event_id));
diesel::joinable!(event_obligations -> obligations (obligation_id));
diesel::joinable!(status_reports -> obligations (obligation_id));
diesel::joinable!(status_reports -> parties (party_id));
diesel::joinable!(status_reports -> decisions (decision_id));
diesel::joinable!(evidence -> status_reports (status_report_id));

diesel::table! {
    reminder_policies (id) {
        id -> Text,
        programme_id -> Nullable<Text>,
        offsets -> Text,
        fields -> Text,
        overdue_every_days -> Integer,
        deputies_after_days -> Integer,
        secretariat_after_days -> Integer,
        send_hour -> Integer,
        skip_weekends -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        dedupe_key -> Text,
        kind -> Text,
        contact_id -> Nullable<Text>,
        recipient -> Text,
        language -> Text,
        time_zone -> Text,
        programme_id -> Nullable<Text>,
        item_kind -> Nullable<Text>,
        item_id -> Nullable<Text>,
        occurrence -> Text,
        due_on -> Nullable<Date>,
        offset_days -> Nullable<Integer>,
        payload -> Text,
        send_after -> Timestamp,
        state -> Text,
        attempts -> Integer,
        lease_until -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        message_id -> Text,
        digest_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    body_secretariats (body_id, contact_id) {
        body_id -> Text,
        contact_id -> Text,
    }
}

diesel::table! {
    snapshots (id) {
        id -> Text,
        programme_id -> Text,
        meeting_id -> Nullable<Text>,
        label -> Nullable<Text>,
        as_of -> Date,
        taken_at -> Timestamp,
        taken_by -> Text,
        rollup -> Text,
        implementation_table -> Text,
    }
}

diesel::joinable!(snapshots -> programmes (programme_id));

diesel::allow_tables_to_appear_in_same_query!(
    parties,
    organisations,
    contacts,
    agreements,
    agreement_parties,
    agreement_signatories,
    bodies,
    body_parties,
    meetings,
    decisions,
    programmes,
    programme_parties,
    programme_signatories,
    sections,
    obligations,
    assignments,
    events,
    event_organisations,
    event_obligations,
    status_reports,
    evidence,
    audit_log,
    users,
    user_bodies,
    api_tokens,
    login_failures,
    decision_effects,
    event_occurrences,
    obligation_occurrences,
    lead_times,
    calendar_feeds,
    reminder_policies,
    notifications,
    body_secretariats,
    snapshots,
);

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_bodies (user_id, body_id) {
        user_id -> Text,
        body_id -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        label -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        username -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_bodies -> users (user_id));
diesel::joinable!(user_bodies -> bodies (body_id));
diesel::joinable!(api_tokens -> users (user_id));

diesel::table! {
    decision_effects (decision_id, obligation_id) {
        decision_id -> Text,
        obligation_id -> Text,
        effect -> Text,
        before_lifecycle -> Text,
        after_lifecycle -> Text,
        before_timeframe -> Text,
        after_timeframe -> Text,
        superseded_by -> Nullable<Text>,
        applied_at -> Timestamp,
    }
}

diesel::joinable!(decision_effects -> decisions (decision_id));
