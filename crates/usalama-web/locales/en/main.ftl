# Usalama web interface, English. Every message here must also exist in ../fr/main.ftl
# (a unit test checks). Numbers passed as arguments are formatted by the application.

## Layout

app-name = Usalama
app-tagline = Human security, seen from the ground
skip-to-content = Skip to content
nav-label = Main menu
nav-home = Home
nav-events = Events
nav-map = Map
nav-report = Report
nav-login = Log in
nav-logout = Log out
nav-signed-in-as = Signed in as { $user }
lang-label = Language
lang-en = English
lang-fr = Français
footer-text = Usalama is free software (AGPL-3.0-or-later), run by the organisation that hosts this site.

## Shared words

yes = Yes
no = No
unknown = unknown
colon = :
not-given = not given
col-year = Year
col-total = Total
col-events = Events
col-fatalities = Fatalities
col-code = Code
col-name = Name
col-date = Date
col-category = Category
col-dimension = Dimension
col-place = Place
col-status = Status
col-source = Source
dim-lives = Lives
dim-livelihood = Livelihood
dim-dignity = Dignity
status-unverified = Unverified
status-verified = Verified
status-rejected = Rejected
status-duplicate = Duplicate
level-adm0 = Country
level-adm1 = Province
level-adm2 = District
level-adm3 = Commune

## Home page

home-title = Human security overview
home-intro = Usalama brings together reports from monitors and data from conflict datasets about threats to people's lives, livelihoods and dignity, so that they can be seen early, answered without force and accounted for. The figures below count the events recorded here.
home-events = { $count ->
    [one] { $count } event
   *[other] { $count } events
}
home-fatalities = { $count ->
    [one] { $count } person killed
   *[other] { $count } people killed
}
home-localities = { $count ->
    [one] { $count } province covered
   *[other] { $count } provinces covered
}
home-by-year = Events by year and dimension
home-chart-title = Events per year, by dimension
home-no-data = No events have been recorded yet.
home-see-map = See the map of events by province
home-see-events = Browse and filter the events
home-sources = Data sources

## Events list

events-title = Events
events-filter-legend = Filter the events
filter-from = From
filter-to = To
filter-date-hint = YYYY-MM-DD
filter-locality = Province
filter-dimension = Dimension
filter-category = Category
filter-actor = Actor
filter-status = Status
filter-q = Words
filter-any = Any
filter-apply = Show events
filter-clear = Clear filters
events-count = { $count ->
    [one] { $count } event matches
   *[other] { $count } events match
}
events-none = No event matches these filters. Try a wider date range or clear the filters.
events-invalid-field = The value given for “{ $field }” is not valid. Check it and try again; dates are written YYYY-MM-DD.
events-invalid = One of the filter values is not valid. Check them and try again; dates are written YYYY-MM-DD.
events-next = Next page
events-caption = Events, most recent first
events-open = Open event

## Event detail

event-heading-date = Occurred { $date }
event-what = What
event-when = When
event-where = Where
event-date = Date
event-date-precision = Date precision
precision-day = exact day
precision-week = within a week
precision-month = within a month
precision-year = within a year or more
event-coordinates = Coordinates
event-open-in-app = Open in a map app
event-location-precision = Location precision
where-1 = exact location
where-2 = within about 25 km of a known place
where-3 = only the district is known
where-4 = only the province is known
where-5 = a part of the country larger than a province, or a road, river or border
where-6 = only the country is known
where-7 = international waters or airspace
event-casualties = People harmed
killed-best = Killed (best estimate)
killed-range = Killed (low – high estimate)
injured = Injured
abducted = Abducted
displaced = Displaced
civilians-targeted = Civilians deliberately targeted
event-actors = Actors
event-no-actors = No actor recorded.
role-side_a = Side A
role-side_b = Side B
role-perpetrator = Perpetrator
role-target = Target
event-description = Description
event-verification = Verification
event-reliability = Source reliability
event-credibility = Information credibility
reliability-A = A – completely reliable
reliability-B = B – usually reliable
reliability-C = C – fairly reliable
reliability-D = D – not usually reliable
reliability-E = E – unreliable
reliability-F = F – reliability cannot be judged
credibility-1 = 1 – confirmed by other sources
credibility-2 = 2 – probably true
credibility-3 = 3 – possibly true
credibility-4 = 4 – doubtful
credibility-5 = 5 – improbable
credibility-6 = 6 – truth cannot be judged
event-record = Record
event-source = Source
event-external-id = Identifier in the source
event-source-codes = Classification in the source
event-created = Recorded
event-updated = Last changed
event-back = Back to the events

## Map

map-title = Events by province
map-legend-title = Events
map-legend-note = The darker the colour, the more events were recorded in the province. Grey means none was recorded.
map-table-caption = The numbers shown on the map

## Log in

login-title = Log in
login-intro = Log in to review and verify reports. Accounts are created by your administrator.
login-username = Username
login-password = Password
login-submit = Log in
login-failed = The username or the password is not right. Try again.
login-expired = The form had expired. Please try again.
login-locked = Too many attempts. Wait a few minutes and try again.

## Errors

error-title = Error { $status }
error-400 = The request could not be understood. Check the address or the form and try again.
error-401 = You need to log in to see this page.
error-403 = Your account is not allowed to see this page.
error-404 = This page does not exist. The address may be mistyped, or the page may have moved.
error-500 = Something went wrong on our side. Please try again in a few minutes.
error-503 = The database is busy or cannot be reached just now. Nothing was saved: try again in a moment.
error-other = Something went wrong. Please try again.
error-home = Go to the home page

## Verification

nav-verify = Verify
verify-title = Reports to verify
verify-intro = Unverified reports, the most severe first: people killed, then people injured, abducted or displaced, then civilians targeted; the most recent first when equally severe. Open a report to see possible duplicates and its history, or decide here.
verify-filter-legend = Filter the reports
verify-filter-apply = Show reports
verify-invalid-filter = One of the filter values is not valid. Check it and try again.
verify-count = { $count ->
    [one] { $count } report waits for verification
   *[other] { $count } reports wait for verification
}
verify-none = No report is waiting for verification.
verify-killed = { $count } killed
verify-harmed = { $count } injured, abducted or displaced
verify-possible-duplicates = { $count ->
    [one] { $count } possible duplicate: compare and merge
   *[other] { $count } possible duplicates: compare and merge
}
verify-decide-here = Decide here
verify-problem-title = The change was not recorded
verify-back = Back to the record
verify-expired = The form had expired. Open the record again and retry.
verify-conflict-version_conflict = This record changed since you opened it: someone else decided or merged it, or a new import updated it. Open it again, check what changed, and decide again.
verify-conflict-duplicate_record = This record is a duplicate. Un-merge it before deciding on it; its original carries the decision.
verify-conflict-merge_cycle = The other record is already a duplicate of this one, so this merge would go round in a circle.
verify-conflict-already_duplicate = This record is already a duplicate. Un-merge it first.
verify-conflict-not_duplicate = This record is not a duplicate.
verify-conflict-other = The change conflicts with the record as it is now. Open it again and retry.
verify-invalid-reason = A reason is required to reject a report; it may have at most 2,000 characters.
verify-invalid-status = Choose whether the report is verified or rejected.
verify-invalid-into = The other record could not be found.
verify-invalid-other = The value given for “{ $field }” is not valid.
decision-legend = Your decision
decision-verified = Verified: it happened as reported
decision-rejected = Rejected: it is false, or not within what we record
decision-reason = Reason
decision-reason-hint = required to reject; kept in the record's history
decision-not-graded = Not graded
decision-submit = Record the decision
grading-help-title = What do the grades mean?
grading-help-intro = Two separate grades: how far the source can be trusted (A to F), and how likely the information is to be true (1 to 6). A trusted source can pass on doubtful information, and an unknown source can be confirmed by others.
reliability-A-help = No doubt about who the source is, their honesty or their ability to know; always right before.
reliability-B-help = Small doubts about the source; right most of the time before.
reliability-C-help = Some doubts about the source, but it has been right before.
reliability-D-help = Serious doubts about the source, though it has sometimes been right.
reliability-E-help = The source is not trustworthy or not able to know; it has been wrong before.
reliability-F-help = There is nothing to judge the source by, for example a new monitor.
credibility-1-help = Confirmed by other independent sources; makes sense and fits what else is known.
credibility-2-help = Not confirmed, but makes sense and fits what else is known.
credibility-3-help = Not confirmed; makes some sense and fits part of what else is known.
credibility-4-help = Not confirmed; possible but does not make sense; nothing else is known.
credibility-5-help = Not confirmed; does not make sense and contradicts what else is known.
credibility-6-help = There is nothing to judge the information by.
dup-title = Duplicates
dup-of = This record is a duplicate: the same incident as
dup-of-link = its original record
dup-reason = Reason (optional)
dup-unmerge = Un-merge: it is a separate incident
dup-none-merged = No other record has been merged into this one.
dup-merged = Records merged into this one (each keeps its own source)
dup-candidates = Possible duplicates
dup-candidates-intro = Records of the same category within { $km } km and { $days } days, with similar words, the most likely first.
dup-no-candidates = No possible duplicate was found.
dup-score = Likeness
dup-distance = Distance
dup-same-locality = same area (no coordinates)
dup-days = { $days ->
    [one] { $days } day apart
   *[other] { $days } days apart
}
dup-text = Similar words
dup-no-text = no text to compare
dup-merge-this = This record is a duplicate of it
dup-merge-that = It is a duplicate of this record
history-title = History
history-none = Nothing has changed since the record was created.
history-related = other record
history-by = by { $user }
history-withheld = changed (personal data, not shown)
history-changed = changed
history-kind-content_update = Content updated by the source
history-kind-decision = Decision
history-kind-merged_into = Marked as a duplicate
history-kind-duplicate_added = A duplicate was merged into this record
history-kind-unmerged = Un-merged
history-kind-duplicate_removed = A duplicate was un-merged from this record

## Source selector (home page and map)

source-label = Figures from the source
source-option = { $source } ({ $count ->
    [one] { $count } event
   *[other] { $count } events
})
source-show = Show
source-not-summed = The figures of different sources are never added together: datasets such as UCDP and ACLED often record the same incidents, and adding them would count the same deaths twice.

## Report form (channels)

report-title = Report an incident
report-intro = Tell us what happened to people: violence, threats, people forced to flee, lack of food, water or care, abuse by those who should protect. Only the first questions are needed; answer what you can.
report-anonymous-note = You do not need an account and you do not need to give your name. Your report is checked by an analyst before it is used.
report-errors-title = Some answers need to be corrected:
report-what = What happened
report-category = What kind of incident?
report-category-choose = Choose…
report-description = Describe what happened
report-description-hint = In your words, in any language. Do not write names here unless needed.
report-when = When
report-date = Date it happened
report-date-hint = YYYY-MM-DD, today or earlier
report-where = Where
report-where-hint = Type the name of the village, town or area, or give the position.
report-place = Place name
report-place-hint = For example the town or the district
report-or-position = Or the position in decimal degrees (latitude first):
report-latitude = Latitude
report-longitude = Longitude
report-use-position = Use my phone's position
report-position-failed = The position could not be found. Type the place name instead.
report-did-you-mean = Which place is “{ $place }”?
report-keep-typed = None of these: keep the name as I typed it
report-how-many = How many people
report-killed = Killed
report-injured = Injured
report-displaced = Forced to flee
report-people = People involved (optional)
report-people-hint = Only if it helps. This is kept confidential and never published.
report-person = Person { $n }
report-person-name = Name
report-person-age = Age
report-person-sex = Sex
report-person-role = Role (victim, witness…)
report-sex-unsaid = Not said
report-sex-female = Female
report-sex-male = Male
report-sex-other = Other
report-contact = How can we reach you? (optional)
report-contact-label = Phone number or e-mail
report-contact-hint = Only if you agree to be contacted. It is kept confidential.
report-privacy = Names and contacts are seen only by the people who verify reports. They are never published.
report-submit = Send the report
report-expired = The form had expired. Check your answers and send it again.
report-saved-offline = You are offline. The report is saved on this phone and will be sent when the connection is back.
report-sending = Sending the report saved on this phone…
report-draft-restored = Your unsent answers were restored from this phone.
report-error-category = Choose what kind of incident happened.
report-error-date = Give the date it happened as YYYY-MM-DD. It cannot be in the future.
report-error-position = Check the position: latitude between -90 and 90, longitude between -180 and 180.
report-error-swapped = The latitude and the longitude seem swapped. Give the latitude first.
report-error-place = Choose one of the places listed, or give the position.
report-error-count = Give a whole number of people, 0 or more, or leave it empty.
report-error-text = This answer is too long or has characters that cannot be saved.
report-error-age = Give an age between 0 and 130, or leave it empty.
report-error-other = Check this answer.
report-done-title = Report received
report-done-text = Thank you. Your report was received and will be checked by an analyst.
report-done-again = This report had already been received. Thank you.
report-reference-label = Your reference number:
report-done-keep = Write it down: it is the only way to ask what became of your report. It does not reveal anything about you.
report-status-link = Check a report's status
report-another = Send another report

## Report status

status-title = Status of a report
status-intro = Type the reference number you were given when you sent your report.
status-ref-label = Reference number
status-check = Check
status-is = Status:
status-not-found = No report has this reference number. Check it and try again.
report-status-received = Received
report-status-received-text = The report was received and is waiting to be checked.
report-status-verified = Verified
report-status-verified-text = An analyst has checked and confirmed the report.
report-status-rejected = Not retained
report-status-rejected-text = After checking, the report was not retained.
report-status-merged = Merged
report-status-merged-text = Other reports described the same incident; they were brought together.

## Human-security index
nav-index = Index
index-title = Human-security index by province
index-intro = Index 0–10, higher is worse, from { $source } events; period { $period }. Sources are never added together.
index-dimension = Dimension shown
index-view-overall = Index
index-view-lives = Lives
index-view-livelihood = Livelihood
index-view-dignity = Dignity
index-legend = Index × 10
index-map-note = Colours show the selected score times ten. Select a province for its trend and explanation.
index-table-caption = Index and dimension scores by province, worst first
index-trend-title = Index by month
index-trend-note = Monthly index over the whole period with data; gaps where there is no value.
index-explain-caption = Inputs of the index in
index-col-input = Input
index-col-dimension = Dimension
index-col-raw = Raw value
index-col-transform = Transform
index-col-scaled = Scaled (0–10)
index-col-weight = Weight share
index-col-contribution = Contribution
index-back = All provinces

## Access: second factor and rate limits
login-code = Authentication code (6 digits from your app)
login-code-needed = Enter the 6-digit code from your authenticator app as well.
error-429 = Too many requests. Wait a moment and try again.

## Privacy of public figures
public-withheld = withheld
public-withheld-note = “withheld” marks a figure of fewer than { $k } events (more for sexual and gender-based violence), or a figure withheld so that such a small count cannot be worked out from the totals. Public figures never identify people.

## Situation report
sitrep-title = Situation report, { $period }
sitrep-intro = Events recorded by { $source } in { $period }, compared with the month before. Figures are aggregates; small counts are withheld.
sitrep-headline = Headline changes
sitrep-headline-caption = Events and people killed, this month and the month before
sitrep-change = Change
sitrep-hotspots = Hotspots
sitrep-no-hotspots = No province has a figure that can be shown this month.
sitrep-map-title = Events by province this month
sitrep-alerts = Alerts raised and their follow-up

## Forecasts
forecast-caption = Forecast of fatal violence for the months after the data
forecast-col-month = Month
forecast-col-probability = Probability of at least one death
forecast-col-fatalities = Expected deaths
forecast-note = From regularised regressions on this area's past events, its neighbours' and the season (see the methodology, which publishes how well such forecasts did in the past). A forecast is a probability, not a certainty.

## Alerts
nav-alerts = Alerts
alerts-title = Alerts
alerts-intro = Alerts raised by the rules when data changes and on a schedule: aggregate facts only. Also as a feed and as CAP 1.2 messages:
alerts-feed = Atom feed
alerts-bad-filter = The filter { $field } is not valid.
alerts-any = Any
alerts-filter = Filter
alerts-none = No alert matches.
alerts-caption = Alerts, newest first
alerts-min-severity = Least severity
alerts-col-raised = Raised
alerts-col-severity = Severity
alerts-col-place = Place
alerts-col-rule = Rule
alerts-col-period = Period
alerts-col-status = Status
alerts-urgency = Urgency
alerts-certainty = Certainty
alerts-cap = This alert as a CAP 1.2 message
alerts-evidence = Evidence
alerts-evidence-values = Values behind the alert
alerts-evidence-events = Events that raised it:
alerts-history = History
alerts-history-at = When
alerts-history-by = By
alerts-history-note = Note
alerts-change = Follow-up
alerts-back = All alerts
alerts-to-acknowledged = Acknowledge
alerts-to-responded = Mark responded
alerts-to-closed = Close
alerts-status-new = New
alerts-status-acknowledged = Acknowledged
alerts-status-responded = Responded
alerts-status-closed = Closed
alerts-severity-extreme = Extreme
alerts-severity-severe = Severe
alerts-severity-moderate = Moderate
alerts-severity-minor = Minor
alerts-severity-unknown = Unknown
verify-conflict-status_conflict = Someone changed this alert since you opened it. Reload the page and try again.
alerts-invalid-move = An alert moves forward only: new, acknowledged, responded, closed (any open alert may be closed). The note may have at most 2,000 characters.

# Admin helper: privacy marks on the report form
report-description-private = Keep the description private
report-description-private-hint = Only the people allowed to read personal data will see it; it is never published.
report-location-private = Keep the exact location private
report-location-private-hint = The exact point is seen only by the people allowed to read personal data; others see only the area.

# Admin helper: administration pages
admin-users-title = Accounts
admin-orgs-title = Organisations
admin-col-user = Account name
admin-col-role = Role
admin-col-org = Organisation
admin-col-state = State
admin-col-actions = Actions
admin-state-disabled = disabled
admin-state-locked = locked
admin-state-totp = second factor
admin-enable = Enable
admin-disable = Disable
admin-unlock = Unlock
admin-totp-reset = Remove second factor
admin-add-user = Add an account
admin-password-once = Password of { $user }, shown only now: give it to its owner.
admin-done = Done.
admin-error = Not done: { $reason }
admin-add-org = Add an organisation
admin-org-name = Short name
admin-share = Share records
admin-share-from = Records of
admin-share-to = Seen by
admin-share-scope = Which records
admin-scope-all = All
admin-scope-verified = Verified only
admin-scope-none = None (stop sharing)
# Public dashboard, withheld index values and the situation report's alerts (early warning)
nav-dashboard = Dashboard
home-see-dashboard = Open the public dashboard
dash-title = Public dashboard
dash-intro = Aggregates of { $source } events: the human-security index of { $period } by province, the monthly trend by dimension, counts by dimension, the latest alerts and the situation reports. Small counts are withheld.
dash-map = Index by province
dash-map-withheld = { $count ->
    [one] One province is shown without colour: too few reports to show (fewer than { $k } events, or withheld so that a small count cannot be worked out).
   *[other] { $count } provinces are shown without colour: too few reports to show (fewer than { $k } events, or withheld so that a small count cannot be worked out).
}
dash-trend = Monthly trend by dimension, whole country
dash-trend-note = From { $from } to { $to }. Withheld figures are drawn as nothing.
dash-trend-events = Events by month and dimension
dash-trend-fatalities = People killed by month and dimension
dash-by-dimension = Counts by dimension
dash-col-month-events = Events
dash-col-total-events = Events, all time
dash-col-total-fatalities = People killed, all time
dash-alerts = Latest alerts
dash-alerts-caption = The latest alerts and their follow-up (area at province level, no free text)
dash-all-alerts = All alerts
dash-sitreps = Situation reports
dash-country = Whole country
dash-col-kind = Kind
dash-kind-index_threshold = Index threshold
dash-kind-detector = Escalation detected
dash-kind-forecast = Forecast
dash-kind-events = Serious events
dash-kind-verified_report = Verified report
public-withheld-index = too few reports to show
index-withheld-note = Values marked “–” are withheld: too few reports to show (fewer than { $k } events in the province and month, or withheld so that a small count cannot be worked out from the public figures).
sitrep-alerts-none = No alert was raised about this month.
sitrep-alerts-caption = Alerts about or raised in this month and their follow-up (area at province level, no free text)
nav-admin-users = Accounts
nav-admin-orgs = Organisations
