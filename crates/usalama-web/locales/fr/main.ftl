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
error-503 = La base de données est occupée ou injoignable pour le moment. Rien n’a été enregistré : réessayez dans un instant.
error-other = Un problème est survenu. Veuillez réessayer.
error-home = Aller à la page d'accueil

## Vérification

nav-verify = Vérifier
verify-title = Signalements à vérifier
verify-intro = Les signalements non vérifiés, les plus graves d'abord : personnes tuées, puis personnes blessées, enlevées ou déplacées, puis civils visés ; les plus récents d'abord à gravité égale. Ouvrez un signalement pour voir ses doublons possibles et son historique, ou décidez ici.
verify-filter-legend = Filtrer les signalements
verify-filter-apply = Afficher les signalements
verify-invalid-filter = L'une des valeurs de filtre n'est pas valide. Vérifiez-la et réessayez.
verify-count = { $count ->
    [one] { $count } signalement attend d'être vérifié
   *[other] { $count } signalements attendent d'être vérifiés
}
verify-none = Aucun signalement n'attend de vérification.
verify-killed = { $count ->
    [one] { $count } mort
   *[other] { $count } morts
}
verify-harmed = { $count ->
    [one] { $count } blessé, enlevé ou déplacé
   *[other] { $count } blessés, enlevés ou déplacés
}
verify-possible-duplicates = { $count ->
    [one] { $count } doublon possible : comparer et fusionner
   *[other] { $count } doublons possibles : comparer et fusionner
}
verify-decide-here = Décider ici
verify-problem-title = La modification n'a pas été enregistrée
verify-back = Retour à la fiche
verify-expired = Le formulaire avait expiré. Rouvrez la fiche et réessayez.
verify-conflict-version_conflict = Cette fiche a changé depuis que vous l'avez ouverte : quelqu'un d'autre a décidé ou fusionné, ou un nouvel import l'a mise à jour. Rouvrez-la, regardez ce qui a changé et décidez à nouveau.
verify-conflict-duplicate_record = Cette fiche est un doublon. Défaites la fusion avant de décider ; c'est la fiche d'origine qui porte la décision.
verify-conflict-merge_cycle = L'autre fiche est déjà un doublon de celle-ci : cette fusion tournerait en rond.
verify-conflict-already_duplicate = Cette fiche est déjà un doublon. Défaites d'abord la fusion.
verify-conflict-not_duplicate = Cette fiche n'est pas un doublon.
verify-conflict-other = La modification contredit l'état actuel de la fiche. Rouvrez-la et réessayez.
verify-invalid-reason = Un motif est nécessaire pour rejeter un signalement ; il compte au plus 2 000 caractères.
verify-invalid-status = Indiquez si le signalement est vérifié ou rejeté.
verify-invalid-into = L'autre fiche est introuvable.
verify-invalid-other = La valeur saisie pour « { $field } » n'est pas valide.
decision-legend = Votre décision
decision-verified = Vérifié : les faits se sont produits comme signalé
decision-rejected = Rejeté : c'est faux, ou hors de ce que nous enregistrons
decision-reason = Motif
decision-reason-hint = obligatoire pour rejeter ; conservé dans l'historique de la fiche
decision-not-graded = Non évalué
decision-submit = Enregistrer la décision
grading-help-title = Que signifient les notes ?
grading-help-intro = Deux notes distinctes : la confiance que mérite la source (A à F) et la probabilité que l'information soit vraie (1 à 6). Une source sûre peut transmettre une information douteuse, et une source inconnue peut être confirmée par d'autres.
reliability-A-help = Aucun doute sur l'identité de la source, son honnêteté ou sa capacité à savoir ; elle a toujours eu raison.
reliability-B-help = De légers doutes sur la source ; elle a eu raison la plupart du temps.
reliability-C-help = Quelques doutes sur la source, mais elle a déjà eu raison.
reliability-D-help = De sérieux doutes sur la source, même si elle a parfois eu raison.
reliability-E-help = La source n'est pas digne de confiance ou n'est pas en mesure de savoir ; elle s'est déjà trompée.
reliability-F-help = Rien ne permet de juger la source, par exemple un nouvel observateur.
credibility-1-help = Confirmée par d'autres sources indépendantes ; cohérente et conforme à ce que l'on sait par ailleurs.
credibility-2-help = Non confirmée, mais cohérente et conforme à ce que l'on sait par ailleurs.
credibility-3-help = Non confirmée ; assez cohérente et en partie conforme à ce que l'on sait par ailleurs.
credibility-4-help = Non confirmée ; possible mais peu cohérente ; on ne sait rien d'autre.
credibility-5-help = Non confirmée ; incohérente et contredite par ce que l'on sait par ailleurs.
credibility-6-help = Rien ne permet de juger l'information.
dup-title = Doublons
dup-of = Cette fiche est un doublon : le même incident que
dup-of-link = sa fiche d'origine
dup-reason = Motif (facultatif)
dup-unmerge = Défaire la fusion : c'est un autre incident
dup-none-merged = Aucune autre fiche n'a été fusionnée dans celle-ci.
dup-merged = Fiches fusionnées dans celle-ci (chacune garde sa propre source)
dup-candidates = Doublons possibles
dup-candidates-intro = Fiches de la même catégorie à moins de { $km } km et { $days } jours, aux mots semblables, les plus probables d'abord.
dup-no-candidates = Aucun doublon possible n'a été trouvé.
dup-score = Ressemblance
dup-distance = Distance
dup-same-locality = même zone (sans coordonnées)
dup-days = { $days ->
    [one] { $days } jour d'écart
   *[other] { $days } jours d'écart
}
dup-text = Mots semblables
dup-no-text = pas de texte à comparer
dup-merge-this = Cette fiche est un doublon de celle-là
dup-merge-that = Celle-là est un doublon de cette fiche
history-title = Historique
history-none = Rien n'a changé depuis la création de la fiche.
history-related = autre fiche
history-by = par { $user }
history-withheld = modifié (données personnelles, non affichées)
history-changed = modifié
history-kind-content_update = Contenu mis à jour par la source
history-kind-decision = Décision
history-kind-merged_into = Marquée comme doublon
history-kind-duplicate_added = Un doublon a été fusionné dans cette fiche
history-kind-unmerged = Fusion défaite
history-kind-duplicate_removed = Un doublon a été séparé de cette fiche

## Choix de la source (accueil et carte)

source-label = Chiffres de la source
source-option = { $source } ({ $count ->
    [one] { $count } événement
   *[other] { $count } événements
})
source-show = Afficher
source-not-summed = Les chiffres de sources différentes ne sont jamais additionnés : des bases comme UCDP et ACLED recensent souvent les mêmes incidents, et les additionner compterait deux fois les mêmes morts.

## Report form (channels)

report-title = Signaler un incident
report-intro = Dites-nous ce qui est arrivé à des personnes : violences, menaces, personnes forcées de fuir, manque de nourriture, d'eau ou de soins, abus de ceux qui devraient protéger. Seules les premières questions sont nécessaires ; répondez à ce que vous pouvez.
report-anonymous-note = Vous n'avez pas besoin de compte ni de donner votre nom. Votre signalement est vérifié par un analyste avant d'être utilisé.
report-errors-title = Certaines réponses doivent être corrigées :
report-what = Ce qui s'est passé
report-category = Quel genre d'incident ?
report-category-choose = Choisissez…
report-description = Décrivez ce qui s'est passé
report-description-hint = Avec vos mots, dans n'importe quelle langue. N'écrivez pas de noms ici sauf si nécessaire.
report-when = Quand
report-date = Date des faits
report-date-hint = AAAA-MM-JJ, aujourd'hui ou avant
report-where = Où
report-where-hint = Tapez le nom du village, de la ville ou de la zone, ou donnez la position.
report-place = Nom du lieu
report-place-hint = Par exemple la ville ou la sous-préfecture
report-or-position = Ou la position en degrés décimaux (latitude d'abord) :
report-latitude = Latitude
report-longitude = Longitude
report-use-position = Utiliser la position du téléphone
report-position-failed = La position n'a pas pu être trouvée. Tapez plutôt le nom du lieu.
report-did-you-mean = Quel lieu est « { $place } » ?
report-keep-typed = Aucun de ceux-ci : garder le nom tel que je l'ai tapé
report-how-many = Combien de personnes
report-killed = Tuées
report-injured = Blessées
report-displaced = Forcées de fuir
report-people = Personnes concernées (facultatif)
report-people-hint = Seulement si cela aide. Ces informations restent confidentielles et ne sont jamais publiées.
report-person = Personne { $n }
report-person-name = Nom
report-person-age = Âge
report-person-sex = Sexe
report-person-role = Rôle (victime, témoin…)
report-sex-unsaid = Non précisé
report-sex-female = Femme
report-sex-male = Homme
report-sex-other = Autre
report-contact = Comment vous joindre ? (facultatif)
report-contact-label = Numéro de téléphone ou courriel
report-contact-hint = Seulement si vous acceptez d'être contacté. Il reste confidentiel.
report-privacy = Les noms et les contacts ne sont vus que par les personnes qui vérifient les signalements. Ils ne sont jamais publiés.
report-submit = Envoyer le signalement
report-expired = Le formulaire avait expiré. Vérifiez vos réponses et envoyez-le de nouveau.
report-saved-offline = Vous êtes hors ligne. Le signalement est enregistré sur ce téléphone et sera envoyé dès le retour de la connexion.
report-sending = Envoi du signalement enregistré sur ce téléphone…
report-draft-restored = Vos réponses non envoyées ont été reprises de ce téléphone.
report-error-category = Choisissez le genre d'incident.
report-error-date = Donnez la date des faits au format AAAA-MM-JJ. Elle ne peut pas être dans le futur.
report-error-position = Vérifiez la position : latitude entre -90 et 90, longitude entre -180 et 180.
report-error-swapped = La latitude et la longitude semblent inversées. Donnez d'abord la latitude.
report-error-place = Choisissez un des lieux proposés, ou donnez la position.
report-error-count = Donnez un nombre entier de personnes, 0 ou plus, ou laissez vide.
report-error-text = Cette réponse est trop longue ou contient des caractères qui ne peuvent pas être enregistrés.
report-error-age = Donnez un âge entre 0 et 130, ou laissez vide.
report-error-other = Vérifiez cette réponse.
report-done-title = Signalement reçu
report-done-text = Merci. Votre signalement a été reçu et sera vérifié par un analyste.
report-done-again = Ce signalement avait déjà été reçu. Merci.
report-reference-label = Votre numéro de référence :
report-done-keep = Notez-le : c'est le seul moyen de savoir ce qu'est devenu votre signalement. Il ne révèle rien sur vous.
report-status-link = Suivre un signalement
report-another = Envoyer un autre signalement

## Report status

status-title = Suivi d'un signalement
status-intro = Tapez le numéro de référence reçu en envoyant votre signalement.
status-ref-label = Numéro de référence
status-check = Vérifier
status-is = État :
status-not-found = Aucun signalement n'a ce numéro de référence. Vérifiez-le et réessayez.
report-status-received = Reçu
report-status-received-text = Le signalement a été reçu et attend d'être vérifié.
report-status-verified = Vérifié
report-status-verified-text = Un analyste a vérifié et confirmé le signalement.
report-status-rejected = Non retenu
report-status-rejected-text = Après vérification, le signalement n'a pas été retenu.
report-status-merged = Regroupé
report-status-merged-text = D'autres signalements décrivaient le même incident ; ils ont été regroupés.

## Indice de sécurité humaine
nav-index = Indice
index-title = Indice de sécurité humaine par préfecture
index-intro = Indice de 0 à 10, plus élevé signifie pire, calculé sur les événements { $source } ; période { $period }. Les sources ne sont jamais additionnées.
index-dimension = Dimension affichée
index-view-overall = Indice
index-view-lives = Vies
index-view-livelihood = Moyens de subsistance
index-view-dignity = Dignité
index-legend = Indice × 10
index-map-note = Les couleurs montrent le score choisi multiplié par dix. Choisissez une préfecture pour sa tendance et son explication.
index-table-caption = Indice et scores par dimension, du pire au meilleur
index-trend-title = Indice par mois
index-trend-note = Indice mensuel sur toute la période couverte ; interruptions là où il n’y a pas de valeur.
index-explain-caption = Composantes de l’indice en
index-col-input = Composante
index-col-dimension = Dimension
index-col-raw = Valeur brute
index-col-transform = Transformation
index-col-scaled = Mise à l’échelle (0–10)
index-col-weight = Part du poids
index-col-contribution = Contribution
index-back = Toutes les préfectures

## Accès : second facteur et limites de débit
login-code = Code d’authentification (6 chiffres de votre application)
login-code-needed = Saisissez aussi le code à 6 chiffres de votre application d’authentification.
error-429 = Trop de requêtes. Patientez un instant puis réessayez.

## Privacy of public figures
public-withheld = masqué
public-withheld-note = « masqué » signale un chiffre de moins de { $k } événements (davantage pour les violences sexuelles et basées sur le genre), ou un chiffre masqué pour qu’un si petit nombre ne puisse pas être retrouvé à partir des totaux. Les chiffres publics n’identifient jamais personne.

## Situation report
sitrep-title = Rapport de situation, { $period }
sitrep-intro = Événements enregistrés par { $source } en { $period }, comparés au mois précédent. Les chiffres sont agrégés ; les petits nombres sont masqués.
sitrep-headline = Principaux changements
sitrep-headline-caption = Événements et personnes tuées, ce mois-ci et le mois précédent
sitrep-change = Variation
sitrep-hotspots = Points chauds
sitrep-no-hotspots = Aucune préfecture n’a de chiffre publiable ce mois-ci.
sitrep-map-title = Événements par préfecture ce mois-ci
sitrep-alerts = Alertes émises et leur suivi

## Prévisions
forecast-caption = Prévision de la violence meurtrière pour les mois suivant les données
forecast-col-month = Mois
forecast-col-probability = Probabilité d’au moins un mort
forecast-col-fatalities = Morts attendus
forecast-note = Issue de régressions régularisées sur les événements passés de la zone, ceux de ses voisines et la saison (voir la méthodologie, qui publie la qualité de ces prévisions par le passé). Une prévision est une probabilité, pas une certitude.

## Alertes
nav-alerts = Alertes
alerts-title = Alertes
alerts-intro = Alertes levées par les règles quand les données changent et à intervalles réguliers : uniquement des faits agrégés. Aussi en flux et en messages CAP 1.2 :
alerts-feed = Flux Atom
alerts-bad-filter = Le filtre { $field } n’est pas valable.
alerts-any = Tous
alerts-filter = Filtrer
alerts-none = Aucune alerte ne correspond.
alerts-caption = Alertes, les plus récentes d’abord
alerts-min-severity = Gravité minimale
alerts-col-raised = Levée le
alerts-col-severity = Gravité
alerts-col-place = Lieu
alerts-col-rule = Règle
alerts-col-period = Période
alerts-col-status = État
alerts-urgency = Urgence
alerts-certainty = Certitude
alerts-cap = Cette alerte en message CAP 1.2
alerts-evidence = Éléments
alerts-evidence-values = Valeurs à l’origine de l’alerte
alerts-evidence-events = Événements qui l’ont levée :
alerts-history = Historique
alerts-history-at = Quand
alerts-history-by = Par
alerts-history-note = Note
alerts-change = Suivi
alerts-back = Toutes les alertes
alerts-to-acknowledged = Prendre en compte
alerts-to-responded = Marquer « réponse en cours »
alerts-to-closed = Clore
alerts-status-new = Nouvelle
alerts-status-acknowledged = Prise en compte
alerts-status-responded = Réponse en cours
alerts-status-closed = Close
alerts-severity-extreme = Extrême
alerts-severity-severe = Grave
alerts-severity-moderate = Modérée
alerts-severity-minor = Mineure
alerts-severity-unknown = Inconnue
verify-conflict-status_conflict = Quelqu’un a modifié cette alerte depuis que vous l’avez ouverte. Rechargez la page et réessayez.
alerts-invalid-move = Une alerte avance dans un seul sens : nouvelle, prise en compte, réponse en cours, close (toute alerte ouverte peut être close). La note compte au plus 2 000 caractères.

# Admin helper: privacy marks on the report form
report-description-private = Garder la description privée
report-description-private-hint = Seules les personnes autorisées à lire les données personnelles la verront ; elle n'est jamais publiée.
report-location-private = Garder le lieu exact privé
report-location-private-hint = Le point exact n'est vu que par les personnes autorisées à lire les données personnelles ; les autres ne voient que la zone.

# Admin helper: administration pages
admin-users-title = Comptes
admin-orgs-title = Organisations
admin-col-user = Nom du compte
admin-col-role = Rôle
admin-col-org = Organisation
admin-col-state = État
admin-col-actions = Actions
admin-state-disabled = désactivé
admin-state-locked = verrouillé
admin-state-totp = second facteur
admin-enable = Activer
admin-disable = Désactiver
admin-unlock = Déverrouiller
admin-totp-reset = Retirer le second facteur
admin-add-user = Ajouter un compte
admin-password-once = Mot de passe de { $user }, affiché une seule fois : remettez-le à son titulaire.
admin-done = C'est fait.
admin-error = Non effectué : { $reason }
admin-add-org = Ajouter une organisation
admin-org-name = Nom court
admin-share = Partager les dossiers
admin-share-from = Dossiers de
admin-share-to = Vus par
admin-share-scope = Quels dossiers
admin-scope-all = Tous
admin-scope-verified = Vérifiés seulement
admin-scope-none = Aucun (arrêter le partage)
# Public dashboard, withheld index values and the situation report's alerts (early warning)
nav-dashboard = Tableau de bord
home-see-dashboard = Ouvrir le tableau de bord public
dash-title = Tableau de bord public
dash-intro = Agrégats des événements { $source } : l’indice de sécurité humaine de { $period } par province, la tendance mensuelle par dimension, les effectifs par dimension, les dernières alertes et les rapports de situation. Les petits effectifs sont masqués.
dash-map = Indice par province
dash-map-withheld = { $count ->
    [one] Une province est affichée sans couleur : trop peu de signalements pour être montrée (moins de { $k } événements, ou masquée pour qu’un petit effectif ne puisse pas être déduit).
   *[other] { $count } provinces sont affichées sans couleur : trop peu de signalements pour être montrées (moins de { $k } événements, ou masquées pour qu’un petit effectif ne puisse pas être déduit).
}
dash-trend = Tendance mensuelle par dimension, tout le pays
dash-trend-note = De { $from } à { $to }. Les chiffres masqués ne sont pas dessinés.
dash-trend-events = Événements par mois et par dimension
dash-trend-fatalities = Personnes tuées par mois et par dimension
dash-by-dimension = Effectifs par dimension
dash-col-month-events = Événements
dash-col-total-events = Événements, toute la période
dash-col-total-fatalities = Personnes tuées, toute la période
dash-alerts = Dernières alertes
dash-alerts-caption = Les dernières alertes et leur suivi (zone au niveau de la province, sans texte libre)
dash-all-alerts = Toutes les alertes
dash-sitreps = Rapports de situation
dash-country = Tout le pays
dash-col-kind = Type
dash-kind-index_threshold = Seuil de l’indice
dash-kind-detector = Escalade détectée
dash-kind-forecast = Prévision
dash-kind-events = Événements graves
dash-kind-verified_report = Signalement vérifié
public-withheld-index = trop peu de signalements pour être montré
index-withheld-note = Les valeurs marquées « – » sont masquées : trop peu de signalements pour être montrées (moins de { $k } événements dans la province et le mois, ou masquées pour qu’un petit effectif ne puisse pas être déduit des chiffres publics).
sitrep-alerts-none = Aucune alerte n’a été levée pour ce mois.
sitrep-alerts-caption = Alertes concernant ce mois ou levées pendant ce mois, et leur suivi (zone au niveau de la province, sans texte libre)
nav-admin-users = Comptes
nav-admin-orgs = Organisations
