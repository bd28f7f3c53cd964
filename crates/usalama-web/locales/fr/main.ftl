# Interface web d'Usalama, français. Chaque message doit aussi exister dans ../en/main.ftl
# (un test unitaire le vérifie). Les nombres passés en argument sont mis en forme par
# l'application (espace insécable comme séparateur des milliers).

## Mise en page

app-name = Usalama
app-tagline = La sécurité humaine, vue du terrain
skip-to-content = Aller au contenu
nav-label = Menu principal
nav-home = Accueil
nav-events = Événements
nav-map = Carte
nav-report = Signaler
nav-login = Se connecter
nav-logout = Se déconnecter
nav-signed-in-as = Connecté en tant que { $user }
lang-label = Langue
lang-en = English
lang-fr = Français
footer-text = Usalama est un logiciel libre (AGPL-3.0-or-later), exploité par l'organisation qui héberge ce site.

## Mots communs

yes = Oui
no = Non
unknown = inconnu
colon =  :
not-given = non renseigné
col-year = Année
col-total = Total
col-events = Événements
col-fatalities = Morts
col-code = Code
col-name = Nom
col-date = Date
col-category = Catégorie
col-dimension = Dimension
col-place = Lieu
col-status = Statut
col-source = Source
dim-lives = Vies
dim-livelihood = Moyens de subsistance
dim-dignity = Dignité
status-unverified = Non vérifié
status-verified = Vérifié
status-rejected = Rejeté
status-duplicate = Doublon
level-adm0 = Pays
level-adm1 = Province
level-adm2 = District
level-adm3 = Commune

## Page d'accueil

home-title = Aperçu de la sécurité humaine
home-intro = Usalama rassemble les signalements des observateurs et les données des bases sur les conflits concernant les menaces pour la vie, les moyens de subsistance et la dignité des personnes, afin de les repérer tôt, d'y répondre sans recourir à la force et d'en rendre compte. Les chiffres ci-dessous comptent les événements enregistrés ici.
home-events = { $count ->
    [one] { $count } événement
   *[other] { $count } événements
}
home-fatalities = { $count ->
    [one] { $count } personne tuée
   *[other] { $count } personnes tuées
}
home-localities = { $count ->
    [one] { $count } province couverte
   *[other] { $count } provinces couvertes
}
home-by-year = Événements par année et par dimension
home-chart-title = Événements par année, par dimension
home-no-data = Aucun événement n'a encore été enregistré.
home-see-map = Voir la carte des événements par province
home-see-events = Parcourir et filtrer les événements
home-sources = Sources des données

## Liste des événements

events-title = Événements
events-filter-legend = Filtrer les événements
filter-from = Du
filter-to = Au
filter-date-hint = AAAA-MM-JJ
filter-locality = Province
filter-dimension = Dimension
filter-category = Catégorie
filter-actor = Acteur
filter-status = Statut
filter-q = Mots
filter-any = Tous
filter-apply = Afficher les événements
filter-clear = Effacer les filtres
events-count = { $count ->
    [one] { $count } événement correspond
   *[other] { $count } événements correspondent
}
events-none = Aucun événement ne correspond à ces filtres. Élargissez la période ou effacez les filtres.
events-invalid-field = La valeur saisie pour « { $field } » n'est pas valide. Vérifiez-la et réessayez ; les dates s'écrivent AAAA-MM-JJ.
events-invalid = L'une des valeurs des filtres n'est pas valide. Vérifiez-les et réessayez ; les dates s'écrivent AAAA-MM-JJ.
events-next = Page suivante
events-caption = Événements, du plus récent au plus ancien
events-open = Ouvrir l'événement

## Détail d'un événement

event-heading-date = Survenu le { $date }
event-what = Quoi
event-when = Quand
event-where = Où
event-date = Date
event-date-precision = Précision de la date
precision-day = jour exact
precision-week = à la semaine près
precision-month = au mois près
precision-year = à l'année près ou moins
event-coordinates = Coordonnées
event-open-in-app = Ouvrir dans une application de cartes
event-location-precision = Précision du lieu
where-1 = lieu exact
where-2 = à environ 25 km d'un lieu connu
where-3 = seul le district est connu
where-4 = seule la province est connue
where-5 = une partie du pays plus grande qu'une province, ou une route, un cours d'eau ou une frontière
where-6 = seul le pays est connu
where-7 = eaux ou espace aérien internationaux
event-casualties = Personnes touchées
killed-best = Tués (meilleure estimation)
killed-range = Tués (estimation basse – haute)
injured = Blessés
abducted = Enlevés
displaced = Déplacés
civilians-targeted = Civils délibérément visés
event-actors = Acteurs
event-no-actors = Aucun acteur enregistré.
role-side_a = Partie A
role-side_b = Partie B
role-perpetrator = Auteur
role-target = Cible
event-description = Description
event-verification = Vérification
event-reliability = Fiabilité de la source
event-credibility = Crédibilité de l'information
reliability-A = A – entièrement fiable
reliability-B = B – habituellement fiable
reliability-C = C – assez fiable
reliability-D = D – habituellement peu fiable
reliability-E = E – non fiable
reliability-F = F – fiabilité impossible à évaluer
credibility-1 = 1 – confirmée par d'autres sources
credibility-2 = 2 – probablement vraie
credibility-3 = 3 – peut-être vraie
credibility-4 = 4 – douteuse
credibility-5 = 5 – improbable
credibility-6 = 6 – véracité impossible à évaluer
event-record = Fiche
event-source = Source
event-external-id = Identifiant dans la source
event-source-codes = Classification dans la source
event-created = Enregistré
event-updated = Dernière modification
event-back = Retour aux événements

## Carte

map-title = Événements par province
map-legend-title = Événements
map-legend-note = Plus la couleur est foncée, plus la province compte d'événements enregistrés. Le gris signifie qu'aucun n'a été enregistré.
map-table-caption = Les chiffres représentés sur la carte

## Connexion

login-title = Connexion
login-intro = Connectez-vous pour examiner et vérifier les signalements. Les comptes sont créés par votre administrateur.
login-username = Nom d'utilisateur
login-password = Mot de passe
login-submit = Se connecter
login-failed = Le nom d'utilisateur ou le mot de passe est incorrect. Réessayez.
login-expired = Le formulaire avait expiré. Veuillez réessayer.
login-locked = Trop de tentatives. Attendez quelques minutes avant de réessayer.

## Erreurs

error-title = Erreur { $status }
error-400 = La demande n'a pas pu être comprise. Vérifiez l'adresse ou le formulaire et réessayez.
error-401 = Vous devez vous connecter pour voir cette page.
error-403 = Votre compte n'est pas autorisé à voir cette page.
error-404 = Cette page n'existe pas. L'adresse est peut-être mal saisie, ou la page a été déplacée.
error-500 = Un problème est survenu de notre côté. Veuillez réessayer dans quelques minutes.
error-other = Un problème est survenu. Veuillez réessayer.
error-home = Aller à la page d'accueil

## Choix de la source (accueil et carte)

source-label = Chiffres de la source
source-option = { $source } ({ $count ->
    [one] { $count } événement
   *[other] { $count } événements
})
source-show = Afficher
source-not-summed = Les chiffres de sources différentes ne sont jamais additionnés : des bases comme UCDP et ACLED recensent souvent les mêmes incidents, et les additionner compterait deux fois les mêmes morts.
