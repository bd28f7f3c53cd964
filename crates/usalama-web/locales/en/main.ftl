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
error-other = Something went wrong. Please try again.
error-home = Go to the home page

## Source selector (home page and map)

source-label = Figures from the source
source-option = { $source } ({ $count ->
    [one] { $count } event
   *[other] { $count } events
})
source-show = Show
source-not-summed = The figures of different sources are never added together: datasets such as UCDP and ACLED often record the same incidents, and adding them would count the same deaths twice.
